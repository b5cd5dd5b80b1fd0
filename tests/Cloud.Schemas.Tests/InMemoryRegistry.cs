
namespace Cloud.Schemas.Tests;

/// <summary>A read-only registry over fixed versions, counting lookups (for decoder and cache tests).</summary>
internal sealed class InMemoryRegistry(params SchemaVersion[] versions) : ISchemaRegistry
{
    private readonly List<SchemaVersion> _versions = [.. versions];
    public int Lookups;

    public void Add(SchemaVersion version)
    {
        lock (_versions)
        {
            _versions.Add(version);
        }
    }

    public Task<SchemaVersion> GetVersionAsync(Guid versionId, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Lookups);
        lock (_versions)
        {
            return Task.FromResult(_versions.FirstOrDefault(v => v.VersionId == versionId) ?? throw new SchemaVersionNotFoundException(versionId));
        }
    }

    public Task<SchemaVersion> GetVersionAsync(string schemaName, int? versionNumber = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Lookups);
        lock (_versions)
        {
            var of = _versions.Where(v => v.SchemaName == schemaName).OrderBy(v => v.VersionNumber).ToList();
            if (of.Count == 0)
            {
                throw new SchemaNotFoundException(schemaName);
            }

            return Task.FromResult(versionNumber is { } n ? of.FirstOrDefault(v => v.VersionNumber == n) ?? throw new SchemaVersionNotFoundException(schemaName, n) : of[^1]);
        }
    }

    public Task<RegistrationResult> RegisterAsync(string schemaName, SchemaFormat format, string definition, CompatibilityMode? compatibility = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<CompatibilityResult> CheckAsync(string schemaName, string definition, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<SchemaInfo> DescribeAsync(string schemaName, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IReadOnlyList<SchemaInfo>> ListSchemasAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IReadOnlyList<SchemaVersion>> ListVersionsAsync(string schemaName, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task UpdateCompatibilityAsync(string schemaName, CompatibilityMode compatibility, CancellationToken cancellationToken = default) => throw new NotSupportedException();
}
