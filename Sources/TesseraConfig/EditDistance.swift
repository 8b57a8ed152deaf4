/// Suggestions for misspelled keys and enum values ("did you mean 'learningRate'?").

/// The Levenshtein distance between two strings: the fewest single-character insertions,
/// deletions and substitutions that turn `source` into `target`.
///
/// Recipes are short, so the plain O(n·m) dynamic programme with one reused row is plenty.
func editDistance(_ source: String, _ target: String) -> Int {
    let source = Array(source)
    let target = Array(target)
    if source.isEmpty { return target.count }
    if target.isEmpty { return source.count }
    var previousRow = Array(0...target.count)
    for sourceIndex in 1...source.count {
        var currentRow = [sourceIndex] + Array(repeating: 0, count: target.count)
        for targetIndex in 1...target.count {
            let substitutionCost = source[sourceIndex - 1] == target[targetIndex - 1] ? 0 : 1
            currentRow[targetIndex] = min(
                previousRow[targetIndex] + 1,
                currentRow[targetIndex - 1] + 1,
                previousRow[targetIndex - 1] + substitutionCost)
        }
        previousRow = currentRow
    }
    return previousRow[target.count]
}

/// The candidate closest to `word`, if it is close enough to be a plausible typo.
///
/// Case is ignored when measuring (`learningrate` is one step from nothing, zero from `learningRate`),
/// and the allowed distance grows with the word: at most 2 edits, or a third of its length, so
/// `learningRat` finds `learningRate` and `setps` finds `steps`; an edit count as large as the word
/// itself (`ab` → `xy`) means the words merely share a length, so that is never a suggestion.
/// Ties go to the candidate listed first.
public func closestMatch(to word: String, among candidates: [String]) -> String? {
    let allowedDistance = max(2, word.count / 3)
    var best: (candidate: String, distance: Int)?
    for candidate in candidates where candidate != word {
        let distance = editDistance(word.lowercased(), candidate.lowercased())
        if distance <= allowedDistance, distance < word.count, distance < (best?.distance ?? Int.max) {
            best = (candidate, distance)
        }
    }
    return best?.candidate
}
