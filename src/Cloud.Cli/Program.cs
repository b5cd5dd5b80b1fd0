using Cloud.Cli;
using Cloud.Cli.Infrastructure;

return await CliApp.RunAsync(args, CliConsole.System()).ConfigureAwait(false);
