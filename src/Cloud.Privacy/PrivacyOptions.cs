using System.Globalization;

namespace Cloud.Privacy;

/// <summary>How per-user data keys are wrapped.</summary>
public enum KeyWrapping
{
    /// <summary>Each user key is generated and unwrapped by the master key (one KMS call per new user and per cache miss).</summary>
    Direct,

    /// <summary>
    /// User keys are wrapped locally by a branch key stored in the key table and wrapped by the master key (the AWS
    /// Encryption SDK's hierarchical keyring): master-key calls scale with branch keys per cache TTL, not users.
    /// </summary>
    Hierarchical,
}

/// <summary>Where the master key lives.</summary>
public enum MasterKeySource
{
    /// <summary>AWS KMS key (<see cref="PrivacyOptions.KmsKeyId"/>).</summary>
    Kms,

    /// <summary>Local key file (<see cref="PrivacyOptions.LocalKeyFile"/>), for the local stack.</summary>
    LocalFile,

    /// <summary>Local key in an environment variable (<see cref="PrivacyOptions.LocalKeyEnvironmentVariable"/>), base64.</summary>
    LocalEnvironment,
}

/// <summary>Configuration of the privacy stack (key table, master key, cache, personal fields).</summary>
public sealed class PrivacyOptions
{
    /// <summary>Environment variable: <c>Direct</c> or <c>Hierarchical</c> (see <see cref="KeyWrapping"/>).</summary>
    public const string KeyWrappingVariable = "CLOUD_PRIVACY_KEY_WRAPPING";

    /// <summary>Environment variable: <c>true</c> for pseudonymous identifiers (<see cref="PersonalDataOptions.Pseudonymize"/>).</summary>
    public const string PseudonymizeVariable = "CLOUD_PRIVACY_PSEUDONYMIZE";

    /// <summary>Environment variable: the branch key id for hierarchical wrapping.</summary>
    public const string BranchKeyIdVariable = "CLOUD_PRIVACY_BRANCH_KEY_ID";

    /// <summary>Environment variable: key table name.</summary>
    public const string KeyTableVariable = "CLOUD_PRIVACY_KEY_TABLE";

    /// <summary>Environment variable: master key, as <c>kms:&lt;key id, ARN or alias&gt;</c>, <c>file:&lt;path&gt;</c> or <c>env:&lt;variable&gt;</c>.</summary>
    public const string MasterKeyVariable = "CLOUD_PRIVACY_MASTER_KEY";

    /// <summary>Environment variable: key cache TTL in seconds (the erase latency).</summary>
    public const string CacheTtlVariable = "CLOUD_PRIVACY_KEY_CACHE_TTL_SECONDS";

    /// <summary>Environment variable: key cache size bound.</summary>
    public const string CacheMaxEntriesVariable = "CLOUD_PRIVACY_KEY_CACHE_MAX_ENTRIES";

    /// <summary>Environment variable: user id field path.</summary>
    public const string UserIdFieldVariable = "CLOUD_PRIVACY_USER_ID_FIELD";

    /// <summary>Environment variable: comma-separated personal field paths.</summary>
    public const string FieldsVariable = "CLOUD_PRIVACY_FIELDS";

    /// <summary>Environment variable: <c>Reject</c> or <c>Drop</c>.</summary>
    public const string ForgottenPolicyVariable = "CLOUD_PRIVACY_FORGOTTEN_POLICY";

    /// <summary>Environment variable: <see cref="PersonalDataOptions.DataSet"/> (unset: the stream name).</summary>
    public const string DataSetVariable = "CLOUD_PRIVACY_DATA_SET";

    /// <summary>DynamoDB table of user keys.</summary>
    /// <value>The default value is <c>cloud-privacy-keys</c>.</value>
    public string KeyTableName { get; set; } = DynamoDbKeyStore.DefaultTableName;

    /// <summary>Which master key provider to use.</summary>
    /// <value>The default value is <see cref="MasterKeySource.LocalFile"/>.</value>
    public MasterKeySource MasterKeySource { get; set; } = MasterKeySource.LocalFile;

    /// <summary>KMS key id, ARN or alias; required for <see cref="MasterKeySource.Kms"/>.</summary>
    public string? KmsKeyId { get; set; }

    /// <summary>Local master key file.</summary>
    /// <value>The default value is <c>.local/privacy/master.key</c> (git-ignored).</value>
    public string LocalKeyFile { get; set; } = LocalMasterKeyProvider.DefaultKeyFile;

    /// <summary>When true, a missing local key file is created (0600). Local stack only.</summary>
    /// <value>The default value is false.</value>
    public bool CreateLocalKeyFileIfMissing { get; set; }

    /// <summary>Environment variable holding the local master key (base64).</summary>
    /// <value>The default value is <c>CLOUD_PRIVACY_LOCAL_MASTER_KEY</c>.</value>
    public string LocalKeyEnvironmentVariable { get; set; } = LocalMasterKeyProvider.DefaultEnvironmentVariable;

    /// <summary>TTL of cached unwrapped keys: the erase latency for processes other than the one that forgets.</summary>
    /// <value>The default value is 5 minutes (max 1 hour).</value>
    public TimeSpan KeyCacheTtl { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Maximum cached keys per process.</summary>
    /// <value>The default value is 100,000.</value>
    public int KeyCacheMaxEntries { get; set; } = 100_000;

    /// <summary>How user data keys are wrapped: by the master key itself, or by a branch key that the master key wraps.</summary>
    /// <value>The default value is <see cref="KeyWrapping.Direct"/>.</value>
    public KeyWrapping KeyWrapping { get; set; } = KeyWrapping.Direct;

    /// <summary>Branch key that wraps new user keys in <see cref="KeyWrapping.Hierarchical"/> mode (no '/').</summary>
    /// <value>The default value is <c>default</c>.</value>
    public string BranchKeyId { get; set; } = "default";

    /// <summary>Personal fields, user id field, forgotten-user policy.</summary>
    public PersonalDataOptions PersonalData { get; init; } = new();

    /// <summary>Checks every option; all problems in one message.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(KeyTableName))
        {
            problems.Add("KeyTableName is empty");
        }

        switch (MasterKeySource)
        {
            case MasterKeySource.Kms when string.IsNullOrWhiteSpace(KmsKeyId):
                problems.Add("KmsKeyId is required when MasterKeySource is Kms");
                break;
            case MasterKeySource.LocalFile when string.IsNullOrWhiteSpace(LocalKeyFile):
                problems.Add("LocalKeyFile is empty");
                break;
            case MasterKeySource.LocalEnvironment when string.IsNullOrWhiteSpace(LocalKeyEnvironmentVariable):
                problems.Add("LocalKeyEnvironmentVariable is empty");
                break;
        }

        if (KeyCacheTtl <= TimeSpan.Zero || KeyCacheTtl > DataKeyCache.MaxTtl)
        {
            problems.Add($"KeyCacheTtl {KeyCacheTtl} is not in (0, {DataKeyCache.MaxTtl}]");
        }

        if (KeyWrapping == KeyWrapping.Hierarchical && (string.IsNullOrWhiteSpace(BranchKeyId) || BranchKeyId.Contains('/', StringComparison.Ordinal)
            || string.Equals(BranchKeyId, PseudonymousIdentity.IndexKeyId, StringComparison.Ordinal)))
        {
            problems.Add($"BranchKeyId '{BranchKeyId}' must be non-empty, contain no '/' and not be '{PseudonymousIdentity.IndexKeyId}'");
        }

        if (!Enum.IsDefined(KeyWrapping))
        {
            problems.Add($"KeyWrapping {KeyWrapping} is not Direct or Hierarchical");
        }

        if (KeyCacheMaxEntries < 1)
        {
            problems.Add("KeyCacheMaxEntries must be at least 1");
        }

        try
        {
            PersonalData.Validate();
        }
        catch (ArgumentException ex)
        {
            problems.Add(ex.Message);
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid privacy options: " + string.Join("; ", problems));
        }
    }

    /// <summary>
    /// Reads the options from environment variables (the Lambda functions' configuration); unset variables keep the
    /// defaults. See the <c>*Variable</c> constants for names.
    /// </summary>
    /// <exception cref="ArgumentException">A variable has an invalid value.</exception>
    public static PrivacyOptions FromEnvironment(Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        var options = new PrivacyOptions();
        if (getVariable(KeyTableVariable) is { Length: > 0 } table)
        {
            options.KeyTableName = table;
        }

        if (getVariable(MasterKeyVariable) is { Length: > 0 } master)
        {
            int colon = master.IndexOf(':', StringComparison.Ordinal);
            var kind = colon < 0 ? "" : master[..colon];
            var value = colon < 0 ? "" : master[(colon + 1)..];
            switch (kind)
            {
                case "kms":
                    options.MasterKeySource = MasterKeySource.Kms;
                    options.KmsKeyId = value;
                    break;
                case "file":
                    options.MasterKeySource = MasterKeySource.LocalFile;
                    options.LocalKeyFile = value;
                    break;
                case "env":
                    options.MasterKeySource = MasterKeySource.LocalEnvironment;
                    options.LocalKeyEnvironmentVariable = value;
                    break;
                default:
                    throw new ArgumentException($"{MasterKeyVariable} must be 'kms:<key>', 'file:<path>' or 'env:<variable>', got a value starting '{kind}'");
            }
        }

        if (getVariable(CacheTtlVariable) is { Length: > 0 } ttl)
        {
            options.KeyCacheTtl = double.TryParse(ttl, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0
                ? TimeSpan.FromSeconds(s)
                : throw new ArgumentException($"{CacheTtlVariable} must be a positive number of seconds, got '{ttl}'");
        }

        if (getVariable(CacheMaxEntriesVariable) is { Length: > 0 } max)
        {
            options.KeyCacheMaxEntries = int.TryParse(max, NumberStyles.None, CultureInfo.InvariantCulture, out var m)
                ? m
                : throw new ArgumentException($"{CacheMaxEntriesVariable} must be a positive integer, got '{max}'");
        }

        if (getVariable(UserIdFieldVariable) is { Length: > 0 } userIdField)
        {
            options.PersonalData.UserIdField = userIdField;
        }

        if (getVariable(FieldsVariable) is { Length: > 0 } fields)
        {
            options.PersonalData.Fields.Clear();
            foreach (var f in fields.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                options.PersonalData.Fields.Add(f);
            }
        }

        if (getVariable(ForgottenPolicyVariable) is { Length: > 0 } policy)
        {
            options.PersonalData.ForgottenUserPolicy = Enum.TryParse<ForgottenUserPolicy>(policy, ignoreCase: true, out var p) && Enum.IsDefined(p)
                ? p
                : throw new ArgumentException($"{ForgottenPolicyVariable} must be Reject or Drop, got '{policy}'");
        }

        if (getVariable(KeyWrappingVariable) is { Length: > 0 } wrapping)
        {
            options.KeyWrapping = Enum.TryParse<KeyWrapping>(wrapping, ignoreCase: true, out var w) && Enum.IsDefined(w)
                ? w
                : throw new ArgumentException($"{KeyWrappingVariable} must be Direct or Hierarchical, got '{wrapping}'");
        }

        if (getVariable(BranchKeyIdVariable) is { Length: > 0 } branch)
        {
            options.BranchKeyId = branch;
        }

        if (getVariable(PseudonymizeVariable) is { Length: > 0 } pseudonymize)
        {
            options.PersonalData.Pseudonymize = bool.TryParse(pseudonymize, out var on)
                ? on
                : throw new ArgumentException($"{PseudonymizeVariable} must be true or false, got '{pseudonymize}'");
        }

        if (getVariable(DataSetVariable) is { Length: > 0 } dataSet)
        {
            options.PersonalData.DataSet = dataSet;
        }

        options.Validate();
        return options;
    }
}
