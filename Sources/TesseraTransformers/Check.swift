/// Stops with `message` (which names the type or function and the values involved) when a
/// precondition on sizes or token ids fails.
///
/// Like the tensor core's `check`, and unlike Swift's `precondition`, the message is printed in
/// release builds too: a user who feeds a 70-token sequence to a 64-token model must learn both
/// numbers from the CLI, not just that it trapped. Recipes and the CLI validate what they can
/// first and throw; this is the library's last line.
@inline(__always)
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { checkFailure(message()) }
}

@inline(never)
func checkFailure(_ message: String) -> Never {
    fatalError("Tessera \(message)")
}
