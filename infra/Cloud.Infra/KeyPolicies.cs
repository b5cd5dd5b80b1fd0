using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.KMS;

namespace Cloud.Infra;

/// <summary>
/// Replaces CDK's default key policy (account root: <c>kms:*</c>) with named actions: key administration for the
/// account, and use of the key (encrypt/decrypt/data keys) delegated to IAM policies, which the stacks write only through
/// Grant* methods.
/// https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
/// </summary>
public static class KeyPolicies
{
    /// <summary>Administration actions the account keeps (no wildcards; includes PutKeyPolicy so it cannot lock itself out).</summary>
    public static IReadOnlyList<string> AdministrationActions { get; } =
    [
        "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:CreateGrant", "kms:DeleteAlias", "kms:DescribeKey", "kms:DisableKey",
        "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus",
        "kms:ListGrants", "kms:ListKeyPolicies", "kms:ListKeyRotations", "kms:ListResourceTags", "kms:PutKeyPolicy",
        "kms:RetireGrant", "kms:RevokeGrant", "kms:RotateKeyOnDemand", "kms:ScheduleKeyDeletion", "kms:TagResource",
        "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
    ];

    /// <summary>Use of the key that IAM policies in the account may grant.</summary>
    public static IReadOnlyList<string> UsageActions { get; } =
    [
        "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo",
    ];

    /// <summary>Overrides <paramref name="key"/>'s policy with the explicit statements.</summary>
    public static void UseExplicitPolicy(Key key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var root = new AccountRootPrincipal();
        var document = new PolicyDocument(new PolicyDocumentProps
        {
            Statements =
            [
                new PolicyStatement(new PolicyStatementProps
                {
                    Sid = "KeyAdministration",
                    Principals = [root],
                    Actions = AdministrationActions.ToArray(),
                    Resources = ["*"],
                }),
                new PolicyStatement(new PolicyStatementProps
                {
                    Sid = "UseThroughIamPolicies",
                    Principals = [root],
                    Actions = UsageActions.ToArray(),
                    Resources = ["*"],
                }),
            ],
        });
        var cfn = (CfnKey)key.Node.DefaultChild!;
        cfn.AddPropertyOverride("KeyPolicy", Stack.Of(key).Resolve(document));
    }
}
