using System.Text;

namespace Cloud.Functions.Aggregator;

/// <summary>Escaping for text embedded in the compact state encoding: UTF-8 percent-encoding of anything but a safe ASCII set.</summary>
internal static class StateText
{
    private const string Hex = "0123456789ABCDEF";

    internal static char HexDigit(int value) => Hex[value];

    internal static bool IsSafe(Rune r) =>
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

/// <summary>A growable char buffer for the state encoding: numbers are formatted into it, not into strings.</summary>
internal sealed class CharBuffer
{
    private char[] _buffer = new char[256];
    private int _length;

    public ReadOnlySpan<char> Written => _buffer.AsSpan(0, _length);

    public void Clear() => _length = 0;

    public void Append(char c)
    {
        Ensure(1);
        _buffer[_length++] = c;
    }

    public void Append(ReadOnlySpan<char> text)
    {
        Ensure(text.Length);
        text.CopyTo(_buffer.AsSpan(_length));
        _length += text.Length;
    }

    public void Append(long value)
    {
        Ensure(20);
        value.TryFormat(_buffer.AsSpan(_length), out int written, default, System.Globalization.CultureInfo.InvariantCulture);
        _length += written;
    }

    public void Append(decimal value)
    {
        Ensure(32);
        value.TryFormat(_buffer.AsSpan(_length), out int written, default, System.Globalization.CultureInfo.InvariantCulture);
        _length += written;
    }

    /// <summary>Appends <paramref name="text"/> escaped as <see cref="StateText.AppendEscaped"/> does.</summary>
    public void AppendEscaped(string text)
    {
        Ensure(StateText.EscapedLength(text));
        Span<byte> utf8 = stackalloc byte[4];
        foreach (Rune r in text.EnumerateRunes())
        {
            if (StateText.IsSafe(r))
            {
                _buffer[_length++] = (char)r.Value;
                continue;
            }

            int n = r.EncodeToUtf8(utf8);
            for (int i = 0; i < n; i++)
            {
                _buffer[_length++] = '%';
                _buffer[_length++] = StateText.HexDigit(utf8[i] >> 4);
                _buffer[_length++] = StateText.HexDigit(utf8[i] & 0xF);
            }
        }
    }

    private void Ensure(int more)
    {
        if (_buffer.Length - _length < more)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + more));
        }
    }
}
