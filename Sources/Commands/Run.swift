// Run: `gannet run MODEL [--input NAME=FILE …] [--out DIR]` — placeholder until TensorProto I/O.
import ArgumentParser
public struct Run: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a model on .pb inputs.")
    @Argument var model: String
    public init() {}
    public func run() throws { throw CommandError("not yet") }
}
