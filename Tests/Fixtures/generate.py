#!/usr/bin/env python3
"""Writes the golden values Tessera's tests compare against, computed with PyTorch.

Run from the repository root with a Python that has torch and numpy:

    /opt/peers/bin/python Tests/Fixtures/generate.py

Each group module below writes JSON files into a test target's Fixtures/ folder: a flat map from a
key to {"shape": [...], "data": [...]} (float32 values, row-major). CI never runs this script; the
outputs are committed.
"""
import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

GROUPS = [name[:-3] for name in sorted(os.listdir(HERE)) if name.startswith("fixtures_") and name.endswith(".py")]

if __name__ == "__main__":
    wanted = sys.argv[1:] or GROUPS
    for group in wanted:
        importlib.import_module(group).main()
        print("wrote", group)
