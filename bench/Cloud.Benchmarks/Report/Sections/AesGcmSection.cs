using System.Security.Cryptography;
using Cloud.Benchmarks.Records;
using Cloud.Privacy;

namespace Cloud.Benchmarks.Report.Sections;

/// <summary>AES-256-GCM (System.Security.Cryptography.AesGcm, what crypto-shredding uses) vs <c>openssl speed -evp aes-256-gcm</c>.</summary>
internal sealed class AesGcmSection : IReportSection
{
    public string Id => "aes";

    public int Order => 44;

    public string Title => "AES-256-GCM vs openssl speed";

    public async Task<SectionResult> RunAsync(ReportContext context, CancellationToken cancellationToken)
    {
        int[] sizes = [16, 256, 1024, 16384];
        int seconds = context.Scale(3, 1);
        var rows = new List<IReadOnlyList<string>>();
        var ratios = new List<double>();
        var oursMb = new List<double>();
        var peerMb = new List<double>();
        using var aes = new AesGcm(RandomNumberGenerator.GetBytes(32), 16);
        var key = new UserDataKey("user-000042", 1, RandomNumberGenerator.GetBytes(32));
        var binding = new FieldBinding("user-000042", "email", "clicks");
        foreach (int size in sizes)
        {
            var plain = RandomNumberGenerator.GetBytes(size);
            var cipher = new byte[size];
            var nonce = new byte[12];
            var tag = new byte[16];
            var field = new byte[FieldCiphertext.GetEncryptedLength(size)];
            int operations = Math.Max(1, 4_000_000 / Math.Max(size, 64));
            double nsRaw = CpuTimeProbe.BestNsPerOp(() =>
            {
                for (int i = 0; i < operations; i++)
                {
                    aes.Encrypt(nonce, plain, cipher, tag);
                }
            }, operations, context.Scale(7, 3));
            double nsField = CpuTimeProbe.BestNsPerOp(() =>
            {
                for (int i = 0; i < operations / 4 + 1; i++)
                {
                    FieldCiphertext.Encrypt(key, binding, plain, field);
                }
            }, operations / 4 + 1, context.Scale(7, 3));
            double ours = size / (nsRaw / 1e9);
            double? peer = await OpenSslSpeed.MeasureAsync("aes-256-gcm", size, seconds, cancellationToken);
            double ratio = peer is { } p ? ours / p : double.NaN;
            ratios.Add(ratio);
            oursMb.Add(ours / 1e6);
            peerMb.Add((peer ?? 0) / 1e6);
            rows.Add([
                Markdown.N(size) + " B",
                Markdown.N(ours / 1e6) + " MB/s",
                Markdown.N(nsRaw) + " ns",
                peer is { } q ? Markdown.N(q / 1e6) + " MB/s" : "openssl not found",
                Markdown.Ratio(ratio),
                Markdown.N(nsField) + " ns",
            ]);
        }

        var plot = context.SavePlot("aes-gcm", "AES-256-GCM encrypt, MB per CPU second", plt =>
        {
            var bars = new List<ScottPlot.Bar>();
            for (int i = 0; i < sizes.Length; i++)
            {
                bars.Add(new ScottPlot.Bar { Position = i * 3, Value = oursMb[i], FillColor = ScottPlot.Colors.SteelBlue });
                bars.Add(new ScottPlot.Bar { Position = i * 3 + 1, Value = peerMb[i], FillColor = ScottPlot.Colors.Gray });
            }

            plt.Add.Bars(bars);
            plt.Axes.Bottom.SetTicks(sizes.Select((_, i) => i * 3 + 0.5).ToArray(), sizes.Select(s => s + " B").ToArray());
            plt.YLabel("MB/s (blue: .NET AesGcm, gray: openssl)");
            plt.Axes.Margins(bottom: 0);
        });

        string markdown = $"""
            `System.Security.Cryptography.AesGcm` (OpenSSL underneath on Linux) with a fixed nonce, as `openssl speed` runs it,
            against `openssl speed -evp aes-256-gcm -bytes N` on the same machine in the same run; both in CPU time.
            The last column is a whole field encryption as crypto-shredding does it (random nonce, AAD binding user, field and
            stream, base64url output).

            {Markdown.Table(["block", ".NET AesGcm", "ns / op", "openssl speed", "ratio", "FieldCiphertext.Encrypt"], rows)}
            {plot}

            Per-call overhead (P/Invoke, argument checks) dominates small blocks; from 1 KB on the two are the same OpenSSL code.
            """;
        return new SectionResult(markdown,
        [
            new Headline("AES-256-GCM 16 KiB blocks vs openssl", rows[^1][1], rows[^1][3], Markdown.Ratio(ratios[^1]), "≥0.7×", ratios[^1] >= 0.7 ? "met" : "missed"),
            new Headline("AES-256-GCM 16 B blocks vs openssl", rows[0][1], rows[0][3], Markdown.Ratio(ratios[0]), "report", ""),
        ]);
    }
}
