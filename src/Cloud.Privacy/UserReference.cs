using System.Security.Cryptography;
using System.Text;

namespace Cloud.Privacy;

/// <summary>
/// What log lines and exception messages print instead of a user id: <c>user#</c> + 8 hex digits of an HMAC-SHA256 of
/// the id under a random key that lives only in this process's memory. Lines of one process run can be correlated; no
/// one — not even this process after a restart — can compute the reference from a user id later, so a log kept after a
/// forget holds nothing computable from the user's id. Callers that need the id itself read the typed exception's
/// <see cref="PrivacyException.UserId"/> property, which never reaches a message.
/// </summary>
public static class UserReference
{
    private static readonly byte[] ProcessKey = RandomNumberGenerator.GetBytes(32);

    /// <summary>The process-local reference of <paramref name="userId"/>; <c>user#?</c> when null or empty.</summary>
    public static string For(string? userId)
    {
        if (string.IsNullOrEmpty(userId))
        {
            return "user#?";
        }

        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(ProcessKey, Encoding.UTF8.GetBytes(userId), mac);
        return "user#" + Convert.ToHexStringLower(mac[..4]);
    }
}
