// Errors: the command-line tools' error type — Core's `Failure` under its command name.
//
// Contract: every error a command throws is a `GannetError` (Core), printed by the argument
// parser as `Error: <location>: <message>` with a non-zero exit status. Library errors that
// do not know the file are located with `at(path) { … }`; those that name it pass through.

import Core

/// A failure reported to the user as `Error: <message>` with a non-zero exit status.
public typealias CommandError = Failure
