using Cloud.Testing;

namespace Cloud.Cli.Tests.Infrastructure;

/// <summary>
/// Tests that run the tool against the emulators join this collection: one <see cref="EmulatorFixture"/>
/// (kinesis-local + dynalite on loopback ports) serves them all, and they run one after another.
/// </summary>
[CollectionDefinition(Name)]
public sealed class CliCollection : ICollectionFixture<EmulatorFixture>
{
    /// <summary>The collection name.</summary>
    public const string Name = "cli-emulators";
}
