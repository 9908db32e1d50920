// TEMPORARY dev driver (remove before commit).
import ArgumentParser
import Commands
struct Dev: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gannet", subcommands: [Convert.self, TestONNX.self])
}
Dev.main()
