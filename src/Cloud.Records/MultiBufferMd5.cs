using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;

namespace Cloud.Records;

/// <summary>
/// MD5 of many buffers at once: 16 independent MD5 computations side by side in the lanes of
/// <see cref="Vector512{T}"/> (AVX-512), so a batch of aggregates hashes in parallel on one core instead of one after
/// the other (single-stream MD5 is serial: each step needs the previous one). Falls back to
/// <see cref="MD5.HashData(ReadOnlySpan{byte}, Span{byte})"/> per buffer where 512-bit vectors are not accelerated.
/// MD5 here is the KPL aggregate checksum (https://github.com/awslabs/amazon-kinesis-producer/blob/master/aggregation-format.md),
/// not a security primitive.
/// </summary>
public static class MultiBufferMd5
{
    private const int Lanes = 16;
    private const int DigestSize = 16;

    /// <summary>Whether the 16-lane path runs on this machine (else each buffer is hashed by the platform's MD5).</summary>
    public static bool IsAccelerated => Avx512F.IsSupported && Vector512.IsHardwareAccelerated && BitConverter.IsLittleEndian;

    /// <summary>Hashes each source; digest i goes to <c>destination[16·i .. 16·i + 16)</c>.</summary>
    /// <exception cref="ArgumentException">The destination is shorter than 16 bytes per source.</exception>
    public static void HashData(IReadOnlyList<ReadOnlyMemory<byte>> sources, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(sources);
        if (destination.Length < sources.Count * DigestSize)
        {
            throw new ArgumentException($"The destination holds {destination.Length} bytes; {sources.Count} digests need {sources.Count * DigestSize}.", nameof(destination));
        }
        int i = 0;
        if (IsAccelerated)
        {
            for (; sources.Count - i >= 2; i += Lanes)
            {
                int count = Math.Min(Lanes, sources.Count - i);
                HashGroup(sources, i, count, destination[(i * DigestSize)..]);
            }
        }
        for (; i < sources.Count; i++)
        {
#pragma warning disable CA5351 // the KPL format's checksum, not security
            MD5.HashData(sources[i].Span, destination.Slice(i * DigestSize, DigestSize));
#pragma warning restore CA5351
        }
    }

    private static void HashGroup(IReadOnlyList<ReadOnlyMemory<byte>> sources, int first, int count, Span<byte> destination)
    {
        // Each lane reads its blocks straight from its array (no per-block Memory.Span), then one 16×16 transpose
        // turns 16 lanes' blocks into the 16 message-word vectors; the last one or two blocks come from a padded copy.
        LaneArrays arrays = default;
        Span<int> offsets = stackalloc int[Lanes];
        Span<int> fullBlocks = stackalloc int[Lanes];
        Span<int> blocks = stackalloc int[Lanes];
        Span<byte> tails = stackalloc byte[Lanes * 128];
        tails.Clear();
        byte[]?[]? copies = null; // lanes whose memory is not array-backed hash a pooled copy
        int maxBlocks = 0;
        try
        {
            for (int lane = 0; lane < Lanes; lane++)
            {
                if (lane >= count)
                {
                    arrays[lane] = null; // an idle lane: reads its (zero) tail slots, result discarded
                    offsets[lane] = 0;
                    fullBlocks[lane] = 0;
                    blocks[lane] = 0;
                    continue;
                }
                var memory = sources[first + lane];
                ReadOnlySpan<byte> data = memory.Span;
                if (MemoryMarshal.TryGetArray(memory, out ArraySegment<byte> segment))
                {
                    arrays[lane] = segment.Array;
                    offsets[lane] = segment.Offset;
                }
                else
                {
                    copies ??= new byte[Lanes][];
                    var copy = ArrayPool<byte>.Shared.Rent(Math.Max(1, data.Length));
                    data.CopyTo(copy);
                    copies[lane] = copy;
                    arrays[lane] = copy;
                    offsets[lane] = 0;
                }
                int full = data.Length / 64;
                int rest = data.Length - (full * 64);
                int tailBlocks = rest + 9 <= 64 ? 1 : 2;
                var tail = tails.Slice(lane * 128, tailBlocks * 64);
                data[(full * 64)..].CopyTo(tail);
                tail[rest] = 0x80;
                BinaryPrimitives.WriteUInt64LittleEndian(tail[^8..], (ulong)data.Length * 8);
                fullBlocks[lane] = full;
                blocks[lane] = full + tailBlocks;
                maxBlocks = Math.Max(maxBlocks, blocks[lane]);
            }

            var a = Vector512.Create(0x67452301u);
            var b = Vector512.Create(0xefcdab89u);
            var c = Vector512.Create(0x98badcfeu);
            var d = Vector512.Create(0x10325476u);
            Span<uint> words = stackalloc uint[16 * Lanes]; // word j of lane l at [j·16 + l]
            ref byte tailBase = ref MemoryMarshal.GetReference(tails);
            Vector512<int> blockCounts = Vector512.Create((ReadOnlySpan<int>)blocks);
            for (int block = 0; block < maxBlocks; block++)
            {
                LoadTransposed(ref arrays, offsets, fullBlocks, block, ref tailBase, ref MemoryMarshal.GetReference(words));
                var mask = Vector512.GreaterThan(blockCounts, Vector512.Create(block)).AsUInt32();
                Vector512<uint> na = a, nb = b, nc = c, nd = d;
                Compress(ref na, ref nb, ref nc, ref nd, ref MemoryMarshal.GetReference(words));
                a = Vector512.ConditionalSelect(mask, na, a);
                b = Vector512.ConditionalSelect(mask, nb, b);
                c = Vector512.ConditionalSelect(mask, nc, c);
                d = Vector512.ConditionalSelect(mask, nd, d);
            }
            for (int lane = 0; lane < count; lane++)
            {
                var digest = destination.Slice(lane * DigestSize, DigestSize);
                BinaryPrimitives.WriteUInt32LittleEndian(digest, a.GetElement(lane));
                BinaryPrimitives.WriteUInt32LittleEndian(digest[4..], b.GetElement(lane));
                BinaryPrimitives.WriteUInt32LittleEndian(digest[8..], c.GetElement(lane));
                BinaryPrimitives.WriteUInt32LittleEndian(digest[12..], d.GetElement(lane));
            }
        }
        finally
        {
            if (copies is not null)
            {
                foreach (var copy in copies)
                {
                    if (copy is not null)
                    {
                        ArrayPool<byte>.Shared.Return(copy);
                    }
                }
            }
        }
    }

    /// <summary>Loads block <paramref name="block"/> of every lane (64 bytes each) and stores it transposed: word j of lane l at [j·16 + l].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadTransposed(ref LaneArrays arrays, Span<int> offsets, Span<int> fullBlocks, int block, ref byte tailBase, ref uint words)
    {
        var r0 = Row(ref arrays, offsets, fullBlocks, 0, block, ref tailBase);
        var r1 = Row(ref arrays, offsets, fullBlocks, 1, block, ref tailBase);
        var r2 = Row(ref arrays, offsets, fullBlocks, 2, block, ref tailBase);
        var r3 = Row(ref arrays, offsets, fullBlocks, 3, block, ref tailBase);
        var r4 = Row(ref arrays, offsets, fullBlocks, 4, block, ref tailBase);
        var r5 = Row(ref arrays, offsets, fullBlocks, 5, block, ref tailBase);
        var r6 = Row(ref arrays, offsets, fullBlocks, 6, block, ref tailBase);
        var r7 = Row(ref arrays, offsets, fullBlocks, 7, block, ref tailBase);
        var r8 = Row(ref arrays, offsets, fullBlocks, 8, block, ref tailBase);
        var r9 = Row(ref arrays, offsets, fullBlocks, 9, block, ref tailBase);
        var r10 = Row(ref arrays, offsets, fullBlocks, 10, block, ref tailBase);
        var r11 = Row(ref arrays, offsets, fullBlocks, 11, block, ref tailBase);
        var r12 = Row(ref arrays, offsets, fullBlocks, 12, block, ref tailBase);
        var r13 = Row(ref arrays, offsets, fullBlocks, 13, block, ref tailBase);
        var r14 = Row(ref arrays, offsets, fullBlocks, 14, block, ref tailBase);
        var r15 = Row(ref arrays, offsets, fullBlocks, 15, block, ref tailBase);

        // 32-bit then 64-bit interleaves: v(g, w) holds, in its 128-bit lane k, rows 4g..4g+3 at word 4k+w.
        var t0 = Avx512F.UnpackLow(r0, r1); var t1 = Avx512F.UnpackHigh(r0, r1);
        var t2 = Avx512F.UnpackLow(r2, r3); var t3 = Avx512F.UnpackHigh(r2, r3);
        var t4 = Avx512F.UnpackLow(r4, r5); var t5 = Avx512F.UnpackHigh(r4, r5);
        var t6 = Avx512F.UnpackLow(r6, r7); var t7 = Avx512F.UnpackHigh(r6, r7);
        var t8 = Avx512F.UnpackLow(r8, r9); var t9 = Avx512F.UnpackHigh(r8, r9);
        var t10 = Avx512F.UnpackLow(r10, r11); var t11 = Avx512F.UnpackHigh(r10, r11);
        var t12 = Avx512F.UnpackLow(r12, r13); var t13 = Avx512F.UnpackHigh(r12, r13);
        var t14 = Avx512F.UnpackLow(r14, r15); var t15 = Avx512F.UnpackHigh(r14, r15);
        Quarter(Lo(t0, t2), Lo(t4, t6), Lo(t8, t10), Lo(t12, t14), ref words, 0);
        Quarter(Hi(t0, t2), Hi(t4, t6), Hi(t8, t10), Hi(t12, t14), ref words, 1);
        Quarter(Lo(t1, t3), Lo(t5, t7), Lo(t9, t11), Lo(t13, t15), ref words, 2);
        Quarter(Hi(t1, t3), Hi(t5, t7), Hi(t9, t11), Hi(t13, t15), ref words, 3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Lo(Vector512<uint> x, Vector512<uint> y) => Avx512F.UnpackLow(x.AsUInt64(), y.AsUInt64()).AsUInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Hi(Vector512<uint> x, Vector512<uint> y) => Avx512F.UnpackHigh(x.AsUInt64(), y.AsUInt64()).AsUInt32();

    /// <summary>4×4 transpose of 128-bit blocks: word 4k+w of all 16 lanes is block k of v0..v3, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quarter(Vector512<uint> v0, Vector512<uint> v1, Vector512<uint> v2, Vector512<uint> v3, ref uint words, int w)
    {
        var x0 = Avx512F.Shuffle4x128(v0, v1, 0x44);
        var x1 = Avx512F.Shuffle4x128(v0, v1, 0xEE);
        var x2 = Avx512F.Shuffle4x128(v2, v3, 0x44);
        var x3 = Avx512F.Shuffle4x128(v2, v3, 0xEE);
        Avx512F.Shuffle4x128(x0, x2, 0x88).StoreUnsafe(ref words, (nuint)(w * Lanes));
        Avx512F.Shuffle4x128(x0, x2, 0xDD).StoreUnsafe(ref words, (nuint)((4 + w) * Lanes));
        Avx512F.Shuffle4x128(x1, x3, 0x88).StoreUnsafe(ref words, (nuint)((8 + w) * Lanes));
        Avx512F.Shuffle4x128(x1, x3, 0xDD).StoreUnsafe(ref words, (nuint)((12 + w) * Lanes));
    }

    /// <summary>Lane <paramref name="lane"/>'s block: from its array while whole blocks last, then from its padded tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Row(ref LaneArrays arrays, Span<int> offsets, Span<int> fullBlocks, int lane, int block, ref byte tailBase)
    {
        int full = fullBlocks[lane];
        if (block < full)
        {
            ref byte start = ref MemoryMarshal.GetArrayDataReference(arrays[lane]!);
            return Vector512.LoadUnsafe(ref start, (nuint)offsets[lane] + ((nuint)block * 64)).AsUInt32();
        }
        int inTail = Math.Min(block - full, 1); // idle lanes (past their blocks) re-read their last tail block
        return Vector512.LoadUnsafe(ref tailBase, (nuint)((lane * 128) + (inTail * 64))).AsUInt32();
    }

    [InlineArray(Lanes)]
    private struct LaneArrays
    {
        private byte[]? _element;
    }

    // The 64 steps of RFC 1321, unrolled so every shift and constant is an immediate (generated, not hand-typed).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Compress(ref Vector512<uint> state0, ref Vector512<uint> state1, ref Vector512<uint> state2, ref Vector512<uint> state3, ref uint words)
    {
        var m0 = Load(ref words, 0); var m1 = Load(ref words, 1); var m2 = Load(ref words, 2); var m3 = Load(ref words, 3);
        var m4 = Load(ref words, 4); var m5 = Load(ref words, 5); var m6 = Load(ref words, 6); var m7 = Load(ref words, 7);
        var m8 = Load(ref words, 8); var m9 = Load(ref words, 9); var m10 = Load(ref words, 10); var m11 = Load(ref words, 11);
        var m12 = Load(ref words, 12); var m13 = Load(ref words, 13); var m14 = Load(ref words, 14); var m15 = Load(ref words, 15);
        Vector512<uint> a = state0, b = state1, c = state2, d = state3;
        a = b + Rotl(a + F(b, c, d) + m0 + Vector512.Create(0xd76aa478u), 7);
        d = a + Rotl(d + F(a, b, c) + m1 + Vector512.Create(0xe8c7b756u), 12);
        c = d + Rotl(c + F(d, a, b) + m2 + Vector512.Create(0x242070dbu), 17);
        b = c + Rotl(b + F(c, d, a) + m3 + Vector512.Create(0xc1bdceeeu), 22);
        a = b + Rotl(a + F(b, c, d) + m4 + Vector512.Create(0xf57c0fafu), 7);
        d = a + Rotl(d + F(a, b, c) + m5 + Vector512.Create(0x4787c62au), 12);
        c = d + Rotl(c + F(d, a, b) + m6 + Vector512.Create(0xa8304613u), 17);
        b = c + Rotl(b + F(c, d, a) + m7 + Vector512.Create(0xfd469501u), 22);
        a = b + Rotl(a + F(b, c, d) + m8 + Vector512.Create(0x698098d8u), 7);
        d = a + Rotl(d + F(a, b, c) + m9 + Vector512.Create(0x8b44f7afu), 12);
        c = d + Rotl(c + F(d, a, b) + m10 + Vector512.Create(0xffff5bb1u), 17);
        b = c + Rotl(b + F(c, d, a) + m11 + Vector512.Create(0x895cd7beu), 22);
        a = b + Rotl(a + F(b, c, d) + m12 + Vector512.Create(0x6b901122u), 7);
        d = a + Rotl(d + F(a, b, c) + m13 + Vector512.Create(0xfd987193u), 12);
        c = d + Rotl(c + F(d, a, b) + m14 + Vector512.Create(0xa679438eu), 17);
        b = c + Rotl(b + F(c, d, a) + m15 + Vector512.Create(0x49b40821u), 22);
        a = b + Rotl(a + G(b, c, d) + m1 + Vector512.Create(0xf61e2562u), 5);
        d = a + Rotl(d + G(a, b, c) + m6 + Vector512.Create(0xc040b340u), 9);
        c = d + Rotl(c + G(d, a, b) + m11 + Vector512.Create(0x265e5a51u), 14);
        b = c + Rotl(b + G(c, d, a) + m0 + Vector512.Create(0xe9b6c7aau), 20);
        a = b + Rotl(a + G(b, c, d) + m5 + Vector512.Create(0xd62f105du), 5);
        d = a + Rotl(d + G(a, b, c) + m10 + Vector512.Create(0x02441453u), 9);
        c = d + Rotl(c + G(d, a, b) + m15 + Vector512.Create(0xd8a1e681u), 14);
        b = c + Rotl(b + G(c, d, a) + m4 + Vector512.Create(0xe7d3fbc8u), 20);
        a = b + Rotl(a + G(b, c, d) + m9 + Vector512.Create(0x21e1cde6u), 5);
        d = a + Rotl(d + G(a, b, c) + m14 + Vector512.Create(0xc33707d6u), 9);
        c = d + Rotl(c + G(d, a, b) + m3 + Vector512.Create(0xf4d50d87u), 14);
        b = c + Rotl(b + G(c, d, a) + m8 + Vector512.Create(0x455a14edu), 20);
        a = b + Rotl(a + G(b, c, d) + m13 + Vector512.Create(0xa9e3e905u), 5);
        d = a + Rotl(d + G(a, b, c) + m2 + Vector512.Create(0xfcefa3f8u), 9);
        c = d + Rotl(c + G(d, a, b) + m7 + Vector512.Create(0x676f02d9u), 14);
        b = c + Rotl(b + G(c, d, a) + m12 + Vector512.Create(0x8d2a4c8au), 20);
        a = b + Rotl(a + H(b, c, d) + m5 + Vector512.Create(0xfffa3942u), 4);
        d = a + Rotl(d + H(a, b, c) + m8 + Vector512.Create(0x8771f681u), 11);
        c = d + Rotl(c + H(d, a, b) + m11 + Vector512.Create(0x6d9d6122u), 16);
        b = c + Rotl(b + H(c, d, a) + m14 + Vector512.Create(0xfde5380cu), 23);
        a = b + Rotl(a + H(b, c, d) + m1 + Vector512.Create(0xa4beea44u), 4);
        d = a + Rotl(d + H(a, b, c) + m4 + Vector512.Create(0x4bdecfa9u), 11);
        c = d + Rotl(c + H(d, a, b) + m7 + Vector512.Create(0xf6bb4b60u), 16);
        b = c + Rotl(b + H(c, d, a) + m10 + Vector512.Create(0xbebfbc70u), 23);
        a = b + Rotl(a + H(b, c, d) + m13 + Vector512.Create(0x289b7ec6u), 4);
        d = a + Rotl(d + H(a, b, c) + m0 + Vector512.Create(0xeaa127fau), 11);
        c = d + Rotl(c + H(d, a, b) + m3 + Vector512.Create(0xd4ef3085u), 16);
        b = c + Rotl(b + H(c, d, a) + m6 + Vector512.Create(0x04881d05u), 23);
        a = b + Rotl(a + H(b, c, d) + m9 + Vector512.Create(0xd9d4d039u), 4);
        d = a + Rotl(d + H(a, b, c) + m12 + Vector512.Create(0xe6db99e5u), 11);
        c = d + Rotl(c + H(d, a, b) + m15 + Vector512.Create(0x1fa27cf8u), 16);
        b = c + Rotl(b + H(c, d, a) + m2 + Vector512.Create(0xc4ac5665u), 23);
        a = b + Rotl(a + I(b, c, d) + m0 + Vector512.Create(0xf4292244u), 6);
        d = a + Rotl(d + I(a, b, c) + m7 + Vector512.Create(0x432aff97u), 10);
        c = d + Rotl(c + I(d, a, b) + m14 + Vector512.Create(0xab9423a7u), 15);
        b = c + Rotl(b + I(c, d, a) + m5 + Vector512.Create(0xfc93a039u), 21);
        a = b + Rotl(a + I(b, c, d) + m12 + Vector512.Create(0x655b59c3u), 6);
        d = a + Rotl(d + I(a, b, c) + m3 + Vector512.Create(0x8f0ccc92u), 10);
        c = d + Rotl(c + I(d, a, b) + m10 + Vector512.Create(0xffeff47du), 15);
        b = c + Rotl(b + I(c, d, a) + m1 + Vector512.Create(0x85845dd1u), 21);
        a = b + Rotl(a + I(b, c, d) + m8 + Vector512.Create(0x6fa87e4fu), 6);
        d = a + Rotl(d + I(a, b, c) + m15 + Vector512.Create(0xfe2ce6e0u), 10);
        c = d + Rotl(c + I(d, a, b) + m6 + Vector512.Create(0xa3014314u), 15);
        b = c + Rotl(b + I(c, d, a) + m13 + Vector512.Create(0x4e0811a1u), 21);
        a = b + Rotl(a + I(b, c, d) + m4 + Vector512.Create(0xf7537e82u), 6);
        d = a + Rotl(d + I(a, b, c) + m11 + Vector512.Create(0xbd3af235u), 10);
        c = d + Rotl(c + I(d, a, b) + m2 + Vector512.Create(0x2ad7d2bbu), 15);
        b = c + Rotl(b + I(c, d, a) + m9 + Vector512.Create(0xeb86d391u), 21);
        state0 += a;
        state1 += b;
        state2 += c;
        state3 += d;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Load(ref uint words, int j) => Vector512.LoadUnsafe(ref words, (nuint)(j * Lanes));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> F(Vector512<uint> x, Vector512<uint> y, Vector512<uint> z) => Vector512.ConditionalSelect(x, y, z);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> G(Vector512<uint> x, Vector512<uint> y, Vector512<uint> z) => Vector512.ConditionalSelect(z, x, y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> H(Vector512<uint> x, Vector512<uint> y, Vector512<uint> z) => x ^ y ^ z;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> I(Vector512<uint> x, Vector512<uint> y, Vector512<uint> z) => y ^ (x | ~z);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Rotl(Vector512<uint> x, [ConstantExpected(Min = 1, Max = 31)] byte s) =>
        Avx512F.RotateLeft(x, s); // only reached when IsAccelerated (AVX-512F)
}
