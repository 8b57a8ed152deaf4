import TesseraTensor

/// A small English corpus for language-model recipes, generated, not shipped: original prose
/// written for Tessera (no third-party text, so no licence to track), produced by a seeded
/// grammar of village life in a river valley. The same seed gives the same text on every
/// machine, so held-out losses are comparable between runs.
///
/// The grammar is deliberately learnable but not trivial: agreement between subjects and their
/// pronouns, recurring characters whose habits repeat, seasons that constrain the weather, and
/// a few dozen sentence shapes over a vocabulary of about 300 words. A small GPT gets its
/// character-level loss well below the unigram entropy within a few hundred steps.
public enum TextCorpus {
    /// `paragraphCount` paragraphs of 3–6 sentences, separated by blank lines.
    public static func generate(paragraphCount: Int, seed: UInt64 = 0) -> String {
        var generator = RandomGenerator(seed: seed).derived(stream: 0x7e47)
        var paragraphs: [String] = []
        for _ in 0..<paragraphCount {
            let season = pick(seasons, &generator)
            var sentences: [String] = [opening(season, &generator)]
            for _ in 0..<(2 + generator.nextInt(below: 4)) { sentences.append(sentence(season, &generator)) }
            paragraphs.append(sentences.joined(separator: " "))
        }
        return paragraphs.joined(separator: "\n\n") + "\n"
    }

    /// The corpus split at a paragraph boundary near `trainFraction` of its length: (train, held out).
    public static func split(_ text: String, trainFraction: Double) -> (train: String, heldOut: String) {
        let paragraphs = text.components(separatedBy: "\n\n")
        let cut = Swift.max(1, Swift.min(paragraphs.count - 1, Int(Double(paragraphs.count) * trainFraction)))
        return (paragraphs[..<cut].joined(separator: "\n\n") + "\n\n", paragraphs[cut...].joined(separator: "\n\n"))
    }

    // MARK: - Grammar

    private struct Person {
        let name: String
        let pronoun: String
        let possessive: String
        let trade: String
        let place: String
    }

    private static let people = [
        Person(name: "Alder", pronoun: "he", possessive: "his", trade: "miller", place: "the mill"),
        Person(name: "Brina", pronoun: "she", possessive: "her", trade: "weaver", place: "the loom house"),
        Person(name: "Corran", pronoun: "he", possessive: "his", trade: "ferryman", place: "the landing"),
        Person(name: "Delphine", pronoun: "she", possessive: "her", trade: "beekeeper", place: "the orchard"),
        Person(name: "Edwy", pronoun: "he", possessive: "his", trade: "smith", place: "the forge"),
        Person(name: "Fenna", pronoun: "she", possessive: "her", trade: "shepherd", place: "the high pasture"),
        Person(name: "Garrick", pronoun: "he", possessive: "his", trade: "baker", place: "the bakehouse"),
        Person(name: "Hollis", pronoun: "she", possessive: "her", trade: "healer", place: "the herb garden"),
    ]
    private static let seasons = ["spring", "summer", "autumn", "winter"]
    private static let weather = [
        "spring": ["a soft rain fell", "the wind was mild", "the fields were green and wet", "the river ran high with snowmelt"],
        "summer": ["the sun was hot", "the air was still and heavy", "dust rose from the road", "the river ran slow and warm"],
        "autumn": ["the leaves turned red and gold", "a cold mist lay on the water", "the wind carried the smell of smoke",
                   "the apples were ripe"],
        "winter": ["snow lay deep on the hills", "the river was edged with ice", "the nights were long and cold",
                   "frost covered every roof"],
    ]
    private static let times = ["In the morning", "At noon", "Before dusk", "At first light", "Late in the evening", "One day"]
    private static let things = ["bread", "wool", "honey", "a new knife", "a basket of apples", "salt", "a lantern",
                                 "a jar of oil", "a bundle of herbs", "a sack of flour"]
    private static let feelings = ["glad", "tired", "worried", "quiet", "hopeful", "restless", "content"]
    private static let sights = ["a heron standing in the reeds", "smoke rising from the chimneys", "the old stone bridge",
                                 "a fox crossing the meadow", "boats tied along the bank", "the bell tower above the square",
                                 "geese flying south", "children running by the well"]
    private static let sayings = ["the river gives and the river takes", "a full barn makes a light heart",
                                  "slow hands make good work", "every road leads back to the valley",
                                  "rain today means bread tomorrow"]

    private static func pick<T>(_ options: [T], _ generator: inout RandomGenerator) -> T {
        options[generator.nextInt(below: options.count)]
    }

    private static func opening(_ season: String, _ generator: inout RandomGenerator) -> String {
        let forms = [
            "It was \(season) in the valley, and \(pick(weather[season]!, &generator)).",
            "In the \(season) of that year \(pick(weather[season]!, &generator)).",
            "\(capitalized(pick(weather[season]!, &generator))) when \(season) came to the valley.",
        ]
        return pick(forms, &generator)
    }

    private static func sentence(_ season: String, _ generator: inout RandomGenerator) -> String {
        let person = pick(people, &generator), other = pick(people.filter { $0.name != person.name }, &generator)
        let time = pick(times, &generator), thing = pick(things, &generator)
        switch generator.nextInt(below: 9) {
        case 0:
            return "\(time) \(person.name) the \(person.trade) walked to \(other.place) with \(thing)."
        case 1:
            return "\(person.name) gave \(other.name) \(thing), and \(other.pronoun) thanked \(person.possessive) friend."
        case 2:
            return "From \(person.place) \(person.name) could see \(pick(sights, &generator))."
        case 3:
            return "\(person.name) was \(pick(feelings, &generator)), because \(pick(weather[season]!, &generator))."
        case 4:
            return "\"\(capitalized(pick(sayings, &generator))),\" said \(person.name) to \(other.name)."
        case 5:
            return "\(other.name) asked \(person.name) for \(thing), but \(person.pronoun) had none to spare."
        case 6:
            return "\(time) the \(person.trade) and the \(other.trade) met on the road and talked about the \(season)."
        case 7:
            return "\(person.name) worked at \(person.place) until \(person.possessive) hands were \(pick(["sore", "cold", "stained", "steady"], &generator))."
        default:
            return "When \(pick(weather[season]!, &generator)), \(person.name) stayed at \(person.place) and thought of \(other.name)."
        }
    }

    private static func capitalized(_ text: String) -> String {
        text.prefix(1).uppercased() + text.dropFirst()
    }
}
