using Cloud.Testing;

namespace Cloud.IntegrationTests;

/// <summary>
/// Every integration test class that needs the local AWS stack joins this collection:
/// <c>[Collection(EmulatorCollection.Name)]</c>. One <see cref="EmulatorFixture"/> serves the whole run.
/// </summary>
[CollectionDefinition(Name)]
public sealed class EmulatorCollection : ICollectionFixture<EmulatorFixture>
{
    /// <summary>The collection name.</summary>
    public const string Name = "emulators";
}
