using System.Globalization;
using System.Numerics;

namespace Cloud.Functions.Aggregator;

/// <summary>
/// The length of <c>decimal.ToString(CultureInfo.InvariantCulture)</c> computed from the decimal's bits, without
/// formatting: the state's size estimate needs it for every field of every applied record.
/// </summary>
internal static class DecimalText
{
    private static readonly UInt128[] PowersOf10 = CreatePowers();

    /// <summary>Length of the invariant-culture text of <paramref name="value"/>.</summary>
    public static int Length(decimal value)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        if ((bits[0] | bits[1] | bits[2]) == 0)
        {
            // Zero's text depends on its scale and sign bit in ways not worth encoding here; it is rare.
            Span<char> text = stackalloc char[64];
            return value.TryFormat(text, out int written, default, CultureInfo.InvariantCulture) ? written : value.ToString(CultureInfo.InvariantCulture).Length;
        }

        int digits;
        if (bits[2] == 0)
        {
            // The usual mantissa fits 64 bits: its digit count from its bit length, one comparison to correct it.
            ulong low = ((ulong)(uint)bits[1] << 32) | (uint)bits[0];
            digits = ((BitOperations.Log2(low) + 1) * 1233) >> 12; // floor(bits · log10 2): the digits, or one fewer
            if (low >= (ulong)PowersOf10[digits])
            {
                digits++;
            }
        }
        else
        {
            var mantissa = new UInt128((uint)bits[2], ((ulong)(uint)bits[1] << 32) | (uint)bits[0]);
            digits = 1;
            while (digits < PowersOf10.Length && mantissa >= PowersOf10[digits])
            {
                digits++;
            }
        }

        int scale = (bits[3] >> 16) & 0xFF;
        int length = scale == 0 ? digits : Math.Max(digits, scale + 1) + 1;
        return bits[3] < 0 ? length + 1 : length;
    }

    private static UInt128[] CreatePowers()
    {
        // 10^0 .. 10^29: a decimal's 96-bit mantissa has at most 29 digits.
        var powers = new UInt128[30];
        powers[0] = 1;
        for (int i = 1; i < powers.Length; i++)
        {
            powers[i] = powers[i - 1] * 10;
        }

        return powers;
    }
}
