using System.Security.Cryptography;
using CsCheck;

namespace Cloud.Records.Tests;

public class MultiBufferMd5Tests
{
    [Fact]
    public void Every_lane_matches_MD5_HashData_for_random_lengths_and_counts()
    {
        // Lengths around the padding edges (55, 56, 63, 64, 119, 120) and up to a few blocks; 0–40 buffers per call.
        var length = Gen.OneOf(Gen.Int[0, 200], Gen.Int[0, 5000], Gen.Int[0, 12].Select(i => new[] { 0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 121, 128, 129 }[i]));
        Gen.Select(length, Gen.Int[0, 1_000_000]).Array[0, 40].Sample(specs =>
        {
            var buffers = specs.Select(s =>
            {
                var bytes = new byte[s.Item1];
                new Random(s.Item2).NextBytes(bytes);
                return (ReadOnlyMemory<byte>)bytes;
            }).ToList();
            var digests = new byte[buffers.Count * 16];
            MultiBufferMd5.HashData(buffers, digests);
            for (int i = 0; i < buffers.Count; i++)
            {
                Assert.Equal(Convert.ToHexString(MD5Of(buffers[i].Span)), Convert.ToHexString(digests.AsSpan(i * 16, 16)));
            }
        }, iter: 2000);
    }

    [Fact]
    public void Known_answers_from_RFC_1321_in_every_lane()
    {
        string[] inputs = ["", "a", "abc", "message digest", "abcdefghijklmnopqrstuvwxyz",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            "12345678901234567890123456789012345678901234567890123456789012345678901234567890"];
        string[] expected = ["D41D8CD98F00B204E9800998ECF8427E", "0CC175B9C0F1B6A831C399E269772661", "900150983CD24FB0D6963F7D28E17F72",
            "F96B697D7CB7938D525A2F31AAF161D0", "C3FCD3D76192E4007DFB496CCA67E13B", "D174AB98D277D9F5A5611C2C9F419D9F",
            "57EDF4A22BE3C955AC49DA2E2107B67A"];
        var buffers = inputs.Concat(inputs).Concat(inputs).Select(s => (ReadOnlyMemory<byte>)System.Text.Encoding.ASCII.GetBytes(s)).ToList();
        var digests = new byte[buffers.Count * 16];
        MultiBufferMd5.HashData(buffers, digests);
        for (int i = 0; i < buffers.Count; i++)
        {
            Assert.Equal(expected[i % inputs.Length], Convert.ToHexString(digests.AsSpan(i * 16, 16)));
        }
    }

    [Fact]
    public void Slices_at_offsets_and_memory_that_is_not_an_array_hash_like_MD5_HashData()
    {
        // Lanes read arrays directly from the slice's offset; other memory (a MemoryManager) is copied first.
        Gen.Select(Gen.Int[0, 3000], Gen.Int[0, 70], Gen.Bool).Array[1, 34].Sample(specs =>
        {
            var owners = new List<IDisposable>();
            var buffers = specs.Select((s, i) =>
            {
                var bytes = new byte[s.Item1 + s.Item2 + 5];
                new Random(i + s.Item1).NextBytes(bytes);
                if (!s.Item3)
                {
                    return new ReadOnlyMemory<byte>(bytes, s.Item2, s.Item1);
                }
                var manager = new NotAnArrayMemoryManager(bytes.AsSpan(s.Item2, s.Item1));
                owners.Add(manager);
                return (ReadOnlyMemory<byte>)manager.Memory;
            }).ToList();
            var digests = new byte[buffers.Count * 16];
            MultiBufferMd5.HashData(buffers, digests);
            for (int i = 0; i < buffers.Count; i++)
            {
                Assert.Equal(Convert.ToHexString(MD5Of(buffers[i].Span)), Convert.ToHexString(digests.AsSpan(i * 16, 16)));
            }
            owners.ForEach(o => o.Dispose());
        }, iter: 500);
    }

    /// <summary>Memory whose TryGetArray says no (as native or pooled memory does), over a copy of the content.</summary>
    private sealed class NotAnArrayMemoryManager(ReadOnlySpan<byte> content) : System.Buffers.MemoryManager<byte>
    {
        private readonly byte[] _bytes = content.ToArray();

        public override Span<byte> GetSpan() => _bytes;

        public override System.Buffers.MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException("not used by the hash");

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }

#pragma warning disable CA5351 // the oracle of a checksum
    private static byte[] MD5Of(ReadOnlySpan<byte> data) => MD5.HashData(data);
#pragma warning restore CA5351

    [Fact]
    public void A_short_destination_is_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => MultiBufferMd5.HashData([new byte[1], new byte[2]], new byte[31]));
        Assert.Contains("2 digests need 32", ex.Message, StringComparison.Ordinal);
    }
}
