import Testing
@testable import TesseraConfig

@Suite struct EditDistanceTests {
    @Test func countsInsertionsDeletionsAndSubstitutions() {
        #expect(editDistance("learningRat", "learningRate") == 1)
        #expect(editDistance("kitten", "sitting") == 3)
        #expect(editDistance("", "abc") == 3)
        #expect(editDistance("same", "same") == 0)
    }

    @Test func suggestsOnlyPlausibleTypos() {
        #expect(closestMatch(to: "learningrate", among: ["momentum", "learningRate"]) == "learningRate")
        #expect(closestMatch(to: "setps", among: ["steps", "logEvery"]) == "steps")
        #expect(closestMatch(to: "lr", among: ["learningRate", "momentum"]) == nil)
        #expect(closestMatch(to: "ab", among: ["xy"]) == nil)
    }
}
