using System.Text;

namespace Cloud.Functions.Aggregator;

/// <summary>Escaping for text embedded in the compact state encoding: UTF-8 percent-encoding of anything but a safe ASCII set.</summary>
internal static class StateText
{
    private const string Hex = "0123456789ABCDEF";

    private static bool IsSafe(Rune r) =>
        r.Value is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-' or '~' or '/';

    /// <summary>Appends <paramref name="text"/> escaped (lone surrogates become U+FFFD).</summary>
    public static void AppendEscaped(StringBuilder sb, string text)
    {
        Span<byte> utf8 = stackalloc byte[4];
        foreach (Rune r in text.EnumerateRunes())
        {
            if (IsSafe(r))
            {
                sb.Append((char)r.Value);
                continue;
            }

            int n = r.EncodeToUtf8(utf8);
            for (int i = 0; i < n; i++)
            {
                sb.Append('%').Append(Hex[utf8[i] >> 4]).Append(Hex[utf8[i] & 0xF]);
            }
        }
    }

    /// <summary>Length of <paramref name="text"/> once escaped.</summary>
    public static int EscapedLength(string text)
    {
        int length = 0;
        foreach (Rune r in text.EnumerateRunes())
        {
            length += IsSafe(r) ? 1 : 3 * r.Utf8SequenceLength;
        }

        return length;
    }

    /// <summary>Reverses <see cref="AppendEscaped"/>.</summary>
    /// <exception cref="FormatException">A %-escape is truncated or not hex.</exception>
    public static string Unescape(ReadOnlySpan<char> text)
    {
        if (!text.Contains('%'))
        {
            return text.ToString();
        }

        var bytes = new List<byte>(text.Length);
        Span<byte> one = stackalloc byte[4];
        int i = 0;
        while (i < text.Length)
        {
            if (text[i] == '%')
            {
                if (i + 2 >= text.Length)
                {
                    throw new FormatException("truncated %-escape");
                }

                bytes.Add(Convert.ToByte(text.Slice(i + 1, 2).ToString(), 16));
                i += 3;
            }
            else
            {
                int n = new Rune(text[i]).EncodeToUtf8(one);
                for (int k = 0; k < n; k++)
                {
                    bytes.Add(one[k]);
                }

                i++;
            }
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
