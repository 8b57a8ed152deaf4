import ArgumentParser

/// `tessera`: train, evaluate, inspect, export and explain models from YAML recipes.
struct TesseraCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessera",
        abstract: "Trains deep-learning models from YAML recipes, on one process or many (MPI).",
        subcommands: [TrainCommand.self, EvaluateCommand.self, InspectCommand.self, ExportCommand.self, GenerateCommand.self, ExplainCommand.self,
                      RunsCommand.self, CompareCommand.self, DashboardCommand.self, SampleCommand.self, CounterfactualCommand.self])
}
