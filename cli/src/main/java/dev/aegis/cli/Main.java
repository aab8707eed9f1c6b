package dev.aegis.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code aegis} command. */
@Command(name = "aegis", mixinStandardHelpOptions = true, version = "aegis 0.1.0",
        description = {"Runs AI agents in fresh, isolated sandboxes that may do only what their manifest allows.", "",
                "Examples:  aegis demo          (a real agent through the whole flow, nothing to set up)",
                "           aegis run examples/summarizer --input '{\"text\": \"...\"}'"},
        subcommands = {ServerCommand.class, DemoCommand.class, RunCommand.class, AgentsCommand.class,
                TasksCommand.class, KeysCommand.class, SecretsCommand.class, ToolsCommand.class, LlmCommand.class, UsageCommand.class, MemoryCommand.class, McpCommand.class, AuditCommand.class, DoctorCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "State lives in $AEGIS_DATA, else ~/.aegis. Client commands use $AEGIS_URL and $AEGIS_API_KEY."})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("aegis: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return 2;
        });
        return cl;
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
