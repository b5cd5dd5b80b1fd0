using System.CommandLine;
using Cloud.Cli.Infrastructure;
using Cloud.Privacy;

namespace Cloud.Cli.Commands;

/// <summary><c>cloud keys rotate</c> — branch-key rotation for hierarchical key wrapping.</summary>
public static class KeysCommand
{
    /// <summary>Builds the <c>keys</c> verb.</summary>
    public static Command Create(CliConsole console)
    {
        var rotate = new Command("rotate", "Add a branch key version and make it active: new user keys are wrapped with it; existing keys and data are unchanged (nothing is re-encrypted). Creates the branch key when it does not exist.");
        rotate.SetAction(async (parse, ct) =>
        {
            using var connection = await CloudConnection.FromAsync(parse, ct).ConfigureAwait(false);
            using var privacy = await PrivacyFactory.CreateAsync(parse, connection, null, null, ct, KeyWrapping.Hierarchical).ConfigureAwait(false);
            var rotation = await privacy.BranchKeys!.RotateAsync(ct).ConfigureAwait(false);
            if (parse.GetValue(GlobalOptions.Json))
            {
                console.WriteJsonLine(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("branchKeyId", rotation.BranchKeyId);
                    if (rotation.PreviousVersion is { } previous)
                    {
                        w.WriteNumber("previousVersion", previous);
                    }
                    else
                    {
                        w.WriteNull("previousVersion");
                    }

                    w.WriteNumber("activeVersion", rotation.ActiveVersion);
                    w.WriteEndObject();
                });
            }
            else
            {
                console.Out.WriteLine(rotation.PreviousVersion is { } previous
                    ? $"Branch key {rotation.BranchKeyId}: version {previous} -> {rotation.ActiveVersion}. New user keys are wrapped with version {rotation.ActiveVersion}; existing keys and data are unchanged. Other processes switch within their key cache TTL."
                    : $"Branch key {rotation.BranchKeyId}: created version {rotation.ActiveVersion}.");
            }

            return ExitCodes.Success;
        });

        return new Command("keys", "Key management for crypto-shredding (hierarchical branch keys)") { rotate };
    }
}
