"""The `chancencheck` command line: entry (parser and dispatch), one module per command group."""
