using Amazon.DynamoDBv2;
using Amazon.KeyManagementService;
using Microsoft.Extensions.Logging;

namespace Cloud.Privacy;

/// <summary>
/// The privacy stack wired from <see cref="PrivacyOptions"/>: master key provider, key store, cache, key ring,
/// <see cref="PersonalDataProtector"/> and <see cref="CryptoShredder"/>. One per process (the cache is per instance).
/// </summary>
public sealed class PrivacyRuntime : IDisposable
{
    private PrivacyRuntime(PrivacyOptions options, IMasterKeyProvider masterKey, IKeyStore store, DataKeyCache cache, UserKeyRing ring, PersonalDataProtector protector, PseudonymousIdentity? identity)
    {
        Options = options;
        Identity = identity;
        MasterKey = masterKey;
        BranchKeys = masterKey as HierarchicalMasterKeyProvider;
        KeyStore = store;
        Cache = cache;
        KeyRing = ring;
        Protector = protector;
        Shredder = new CryptoShredder(ring, identity);
    }

    /// <summary>The options the runtime was built from.</summary>
    public PrivacyOptions Options { get; }

    /// <summary>What wraps user keys: the master key itself (direct) or a <see cref="HierarchicalMasterKeyProvider"/>.</summary>
    public IMasterKeyProvider MasterKey { get; }

    /// <summary>The branch keys in hierarchical mode (rotation: <see cref="HierarchicalMasterKeyProvider.RotateAsync"/>); null in direct mode.</summary>
    public HierarchicalMasterKeyProvider? BranchKeys { get; }

    /// <summary>The key store.</summary>
    public IKeyStore KeyStore { get; }

    /// <summary>The unwrapped-key cache.</summary>
    public DataKeyCache Cache { get; }

    /// <summary>The key ring.</summary>
    public UserKeyRing KeyRing { get; }

    /// <summary>Field encryption / decryption.</summary>
    public PersonalDataProtector Protector { get; }

    /// <summary>Pseudonymous identifiers, when <see cref="PersonalDataOptions.Pseudonymize"/> is set.</summary>
    public PseudonymousIdentity? Identity { get; }

    /// <summary>Forget requests.</summary>
    public CryptoShredder Shredder { get; }

    /// <summary>Builds the stack on DynamoDB; <paramref name="kms"/> is needed only when the master key source is KMS.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="MasterKeyException">The local master key cannot be loaded.</exception>
    public static PrivacyRuntime Create(PrivacyOptions options, IAmazonDynamoDB dynamo, IAmazonKeyManagementService? kms = null,
        TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(dynamo);
        options.Validate();
        return Create(options, new DynamoDbKeyStore(dynamo, options.KeyTableName), CreateMasterKeyProvider(options, kms), timeProvider, loggerFactory,
            new DynamoDbBranchKeyStore(dynamo, options.KeyTableName), new DynamoDbPseudonymStore(dynamo, options.KeyTableName));
    }

    /// <summary>
    /// Builds the stack over any key store and master key provider (tests, in-memory tools). In hierarchical mode
    /// <paramref name="masterKey"/> is the root that wraps branch keys, kept in <paramref name="branchKeys"/> (default: in memory).
    /// </summary>
    public static PrivacyRuntime Create(PrivacyOptions options, IKeyStore store, IMasterKeyProvider masterKey,
        TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null, IBranchKeyStore? branchKeys = null, IPseudonymStore? pseudonyms = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(masterKey);
        options.Validate();
        var time = timeProvider ?? TimeProvider.System;
        var root = masterKey;
        branchKeys ??= new InMemoryBranchKeyStore();
        if (options.KeyWrapping == KeyWrapping.Hierarchical)
        {
            masterKey = new HierarchicalMasterKeyProvider(branchKeys, root, options.BranchKeyId, options.KeyCacheTtl, time);
        }

        var cache = new DataKeyCache(time, options.KeyCacheTtl, options.KeyCacheMaxEntries);
        var ring = new UserKeyRing(store, masterKey, cache, time, loggerFactory?.CreateLogger<UserKeyRing>());
        var identity = options.PersonalData.Pseudonymize
            ? new PseudonymousIdentity(ring, pseudonyms ?? new InMemoryPseudonymStore(), branchKeys, root, time)
            : null;
        var protector = new PersonalDataProtector(ring, options.PersonalData, loggerFactory?.CreateLogger<PersonalDataProtector>(), identity);
        return new PrivacyRuntime(options, masterKey, store, cache, ring, protector, identity);
    }

    /// <summary>Creates the master key provider the options name.</summary>
    /// <exception cref="ArgumentException">KMS is configured but no client is given.</exception>
    /// <exception cref="MasterKeyException">The local master key cannot be loaded.</exception>
    public static IMasterKeyProvider CreateMasterKeyProvider(PrivacyOptions options, IAmazonKeyManagementService? kms)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.MasterKeySource switch
        {
            MasterKeySource.Kms => new KmsMasterKeyProvider(kms ?? throw new ArgumentException("MasterKeySource is Kms but no KMS client was given.", nameof(kms)), options.KmsKeyId!),
            MasterKeySource.LocalEnvironment => LocalMasterKeyProvider.FromEnvironment(options.LocalKeyEnvironmentVariable),
            _ => options.CreateLocalKeyFileIfMissing ? LocalMasterKeyProvider.LoadOrCreate(options.LocalKeyFile) : LocalMasterKeyProvider.FromFile(options.LocalKeyFile),
        };
    }

    /// <summary>Releases a local master key provider (and cached branch keys).</summary>
    public void Dispose()
    {
        (BranchKeys?.Root as IDisposable)?.Dispose();
        (MasterKey as IDisposable)?.Dispose();
    }
}
