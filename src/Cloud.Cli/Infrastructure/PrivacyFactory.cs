using System.CommandLine;
using Amazon.KeyManagementService;
using Cloud.Privacy;

namespace Cloud.Cli.Infrastructure;

/// <summary>Builds the crypto-shredding runtime for a verb: DynamoDB key table + KMS or a local master key.</summary>
public static class PrivacyFactory
{
    /// <summary>KMS key for real AWS; without it the local master key file is used.</summary>
    public static readonly Option<string?> KmsKeyId = new("--kms-key-id") { Description = "KMS key that wraps per-user data keys (default: the local master key file)", Recursive = true };

    /// <summary>Explicit KMS endpoint: required with <c>--kms-key-id</c> when the other services are explicit endpoints.</summary>
    public static readonly Option<Uri?> KmsEndpoint = new("--kms-endpoint") { Description = "KMS endpoint URL (e.g. LocalStack's); required with --kms-key-id and --local/--endpoint/--dynamodb-endpoint", Recursive = true, CustomParser = GlobalOptions.ParseUri };

    /// <summary>Local master key file.</summary>
    public static readonly Option<string?> MasterKeyFile = new("--master-key-file") { Description = "Local master key file (created if missing in local mode; never commit it)", Recursive = true };

    /// <summary>The default local master key file, next to the local stack's state.</summary>
    public static string DefaultMasterKeyFile => Path.Combine(Path.GetDirectoryName(LocalStack.StateFile)!, "privacy", "master.key");

    /// <summary>Creates the runtime and makes sure its key table exists.</summary>
    public static async Task<PrivacyRuntime> CreateAsync(ParseResult parse, CloudConnection connection, string? userIdField, IEnumerable<string>? fields, CancellationToken ct)
    {
        var kmsKey = parse.GetValue(KmsKeyId);
        var kmsEndpoint = parse.GetValue(KmsEndpoint);
        if (kmsKey is null && kmsEndpoint is not null)
        {
            throw CliException.Usage("--kms-endpoint needs --kms-key-id (without a KMS key the local master key file is used).");
        }

        if (kmsKey is not null && kmsEndpoint is null && connection.IsLocal)
        {
            // Explicit endpoints mean "not real AWS": a KMS call to the region's real endpoint would leave that world silently.
            throw CliException.Usage("--kms-key-id with --local, --endpoint or --dynamodb-endpoint needs --kms-endpoint URL (the KMS of that environment); without a KMS key the local master key file is used.");
        }

        var options = new PrivacyOptions
        {
            MasterKeySource = kmsKey is null ? MasterKeySource.LocalFile : MasterKeySource.Kms,
            KmsKeyId = kmsKey,
            LocalKeyFile = parse.GetValue(MasterKeyFile) ?? DefaultMasterKeyFile,
            CreateLocalKeyFileIfMissing = connection.IsLocal,
            PersonalData = new PersonalDataOptions
            {
                UserIdField = userIdField ?? "userId",
                Fields = fields?.ToList() ?? ["email", "name", "ip", "address"],
            },
        };
        if (options.MasterKeySource == MasterKeySource.LocalFile)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.LocalKeyFile))!);
        }

        IAmazonKeyManagementService? kms = kmsKey is null ? null : connection.CreateKmsClient(kmsEndpoint);
        var store = new DynamoDbKeyStore(connection.DynamoDb, options.KeyTableName);
        await store.EnsureTableAsync(cancellationToken: ct).ConfigureAwait(false);
        return PrivacyRuntime.Create(options, connection.DynamoDb, kms);
    }
}
