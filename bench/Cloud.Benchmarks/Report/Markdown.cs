using System.Globalization;
using System.Text;

namespace Cloud.Benchmarks.Report;

/// <summary>Small markdown helpers for the report (tables, invariant-culture numbers).</summary>
internal static class Markdown
{
    public static string Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var text = new StringBuilder();
        text.Append("| ").AppendJoin(" | ", headers).AppendLine(" |");
        text.Append('|').AppendJoin("", headers.Select(_ => "---|")).AppendLine();
        foreach (var row in rows)
        {
            text.Append("| ").AppendJoin(" | ", row.Select(cell => cell.Replace("|", "\\|", StringComparison.Ordinal))).AppendLine(" |");
        }

        return text.ToString();
    }

    /// <summary>A number with thousands separators and <paramref name="decimals"/> decimals.</summary>
    public static string N(double value, int decimals = 0) => double.IsFinite(value)
        ? value.ToString("N" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)
        : "—";

    /// <summary>A ratio such as "2.45×".</summary>
    public static string Ratio(double value) => double.IsFinite(value) ? value.ToString("0.00", CultureInfo.InvariantCulture) + "×" : "—";

    /// <summary>A percentage such as "81 %".</summary>
    public static string Percent(double fraction) => double.IsFinite(fraction) ? (fraction * 100).ToString("0", CultureInfo.InvariantCulture) + " %" : "—";

    public static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
