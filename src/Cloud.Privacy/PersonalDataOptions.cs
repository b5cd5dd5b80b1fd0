namespace Cloud.Privacy;

/// <summary>What happens to a write for a user who was forgotten.</summary>
public enum ForgottenUserPolicy
{
    /// <summary>The write fails with <see cref="UserForgottenException"/>.</summary>
    Reject,

    /// <summary>The record is dropped (the result says so); nothing is written.</summary>
    Drop,
}

/// <summary>Which JSON fields hold personal data and how to treat forgotten users.</summary>
public sealed class PersonalDataOptions
{
    /// <summary>Default redaction marker for a forgotten user's fields.</summary>
    public const string DefaultRedactedMarker = "[redacted: user forgotten]";

    /// <summary>Dot-separated path of the pseudonymous user id field; it stays in the clear.</summary>
    /// <value>The default value is <c>userId</c>.</value>
    public string UserIdField { get; set; } = "userId";

    /// <summary>
    /// Dot-separated paths of personal fields (top-level or nested through objects). A field's whole value — string,
    /// number, object or array — is encrypted. <c>[*]</c> after a name addresses every element of that array on its own:
    /// <c>emails[*]</c> (each element), <c>contacts[*].phone</c> (a field of each object element), <c>grid[*][*]</c>.
    /// </summary>
    /// <value>The default value is <c>email, name, ip, address</c>.</value>
    public IList<string> Fields { get; init; } = ["email", "name", "ip", "address"];

    /// <summary>
    /// Logical data-set name bound into every ciphertext (with user and field). Records keep decrypting when replayed from
    /// a backup or copied to another stream, as long as readers configure the same name; a ciphertext moved to another data
    /// set reads as tampered. Null binds the stream name the record is written to / read from.
    /// </summary>
    /// <value>The default value is null (the stream name).</value>
    public string? DataSet { get; set; }

    /// <summary>
    /// Pseudonymous identifiers (see <see cref="PseudonymousIdentity"/>): the user id field carries a pseudonym that dies
    /// with the user's key, the clear id travels only encrypted in <see cref="SealedUserIdField"/>, and the key table is
    /// keyed by a keyed hash. The user id field must then be top-level.
    /// </summary>
    /// <value>The default value is false.</value>
    public bool Pseudonymize { get; set; }

    /// <summary>Top-level field that carries the encrypted clear user id in pseudonymous mode.</summary>
    /// <value>The default value is <c>sealedUserId</c>.</value>
    public string SealedUserIdField { get; set; } = "sealedUserId";

    /// <summary>Writes for forgotten users.</summary>
    /// <value>The default value is <see cref="ForgottenUserPolicy.Reject"/>.</value>
    public ForgottenUserPolicy ForgottenUserPolicy { get; set; } = ForgottenUserPolicy.Reject;

    /// <summary>String that replaces each personal field of a forgotten user on read.</summary>
    /// <value>The default value is <c>[redacted: user forgotten]</c>.</value>
    public string RedactedMarker { get; set; } = DefaultRedactedMarker;

    /// <summary>Checks the options; every problem in one message.</summary>
    /// <exception cref="ArgumentException">The options are inconsistent.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        if (DataSet is not null && string.IsNullOrWhiteSpace(DataSet))
        {
            problems.Add("DataSet is blank: set a name, or null to bind the stream name");
        }

        if (!IsPath(UserIdField) || UserIdField.Contains('[', StringComparison.Ordinal))
        {
            problems.Add($"UserIdField '{UserIdField}' is not a dot-separated path of non-empty names");
        }

        if (Pseudonymize)
        {
            if (IsPath(UserIdField) && UserIdField.Contains('.', StringComparison.Ordinal))
            {
                problems.Add($"UserIdField '{UserIdField}' must be a top-level field when Pseudonymize is set");
            }

            if (string.IsNullOrEmpty(SealedUserIdField) || SealedUserIdField.Contains('.', StringComparison.Ordinal) || SealedUserIdField.Contains('[', StringComparison.Ordinal)
                || string.Equals(SealedUserIdField, UserIdField, StringComparison.Ordinal) || (Fields?.Any(f => IsSameOrUnder(f ?? "", SealedUserIdField)) ?? false))
            {
                problems.Add($"SealedUserIdField '{SealedUserIdField}' must be a top-level name other than the user id field and the personal fields");
            }
        }

        if (Fields is null || Fields.Count == 0)
        {
            problems.Add("Fields is empty: name at least one personal field");
        }
        else
        {
            foreach (var f in Fields)
            {
                if (!IsPath(f))
                {
                    problems.Add($"field '{f}' is not a dot-separated path of non-empty names, each optionally followed by [*]");
                    continue;
                }

                if (IsSameOrUnder(UserIdField, f))
                {
                    problems.Add($"field '{f}' would encrypt the user id field '{UserIdField}'");
                }

                foreach (var g in Fields)
                {
                    if (!ReferenceEquals(f, g) && IsPath(g) && IsSameOrUnder(g, f))
                    {
                        problems.Add(string.Equals(f, g, StringComparison.Ordinal) ? $"field '{f}' is listed twice" : $"field '{g}' is inside field '{f}'");
                    }
                }
            }
        }

        if (string.IsNullOrEmpty(RedactedMarker) || FieldCiphertext.IsCiphertext(RedactedMarker))
        {
            problems.Add("RedactedMarker must be a non-empty string that is not a ciphertext");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid personal data options: " + string.Join("; ", problems.Distinct()));
        }
    }

    private static bool IsPath(string? path) => !string.IsNullOrEmpty(path) && path.Split('.').All(IsSegment);

    // A name without brackets, then any number of "[*]".
    private static bool IsSegment(string segment)
    {
        int bracket = segment.IndexOf('[', StringComparison.Ordinal);
        var name = bracket < 0 ? segment : segment[..bracket];
        if (name.Length == 0 || name.Contains(']', StringComparison.Ordinal))
        {
            return false;
        }

        for (var rest = bracket < 0 ? "" : segment[bracket..]; rest.Length > 0; rest = rest[3..])
        {
            if (!rest.StartsWith("[*]", StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Splits a validated path segment into its name and how many <c>[*]</c> follow it.</summary>
    internal static (string Name, int ArrayDepth) ParseSegment(string segment)
    {
        int bracket = segment.IndexOf('[', StringComparison.Ordinal);
        return bracket < 0 ? (segment, 0) : (segment[..bracket], (segment.Length - bracket) / 3);
    }

    private static bool IsSameOrUnder(string path, string ancestor) =>
        string.Equals(path, ancestor, StringComparison.Ordinal)
        || path.StartsWith(ancestor + ".", StringComparison.Ordinal)
        || path.StartsWith(ancestor + "[", StringComparison.Ordinal);
}
