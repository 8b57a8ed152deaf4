# The two set-up commands of the README, plus the benchmark and convergence runs.
# Each target first installs the Debian packages Tessera links against, if any is missing.

PACKAGES := libopenmpi-dev openmpi-bin libopenblas-dev libzstd-dev pkg-config iproute2
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RECIPE ?= configs/mlp-digits.yaml

.PHONY: deps train test bench convergence docs

deps:
	@missing=""; for package in $(PACKAGES); do \
	  dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# The main job: build in release mode and train the default recipe on the built-in digits with
# the coordinator and one worker under mpirun on this machine (NP=1 trains in one process).
NP ?= 2
train: deps
	swift build -c release
	.build/release/tessera train $(RECIPE) --np $(NP)

# The test suite (what CI runs), then the example package that uses Tessera as a library.
test: deps
	swift test
	swift test --package-path Tests/ExamplePackage --scratch-path .build-example

# Release-mode benchmarks (see BENCHMARKS.md).
bench: deps
	swift build -c release --product tessera-bench
	.build/release/tessera-bench --list

# Full-length training runs that must reach their documented targets (minutes, not part of `make test`).
convergence: deps
	swift build -c release
	Tests/convergence.sh

# The DocC documentation of every library product, failing on any DocC warning (see Tests/docs.sh).
docs: deps
	Tests/docs.sh
