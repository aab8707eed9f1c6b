package dev.aegis.audit;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * RFC 6962 (Certificate Transparency) Merkle tree over record hashes: leaf = SHA-256(0x00 || recordHash),
 * node = SHA-256(0x01 || left || right), split at the largest power of two below n. Inclusion proof
 * verification follows RFC 9162 section 2.1.3.2.
 */
public final class MerkleTree {
    private MerkleTree() {}

    /** The tree head over {@code recordHashes} (non-empty). */
    public static byte[] root(List<byte[]> recordHashes) {
        if (recordHashes.isEmpty()) throw new IllegalArgumentException("a Merkle tree needs at least one leaf");
        byte[][] level = new byte[recordHashes.size()][];
        for (int i = 0; i < level.length; i++) level[i] = leaf(recordHashes.get(i));
        // Pairing left to right and promoting an odd last node gives the same head as RFC 6962's recursive split.
        int n = level.length;
        while (n > 1) {
            int m = 0;
            for (int i = 0; i + 1 < n; i += 2) level[m++] = node(level[i], level[i + 1]);
            if ((n & 1) == 1) level[m++] = level[n - 1];
            n = m;
        }
        return level[0];
    }

    /**
     * The tree head over {@code n} (> 0) leaf hashes (SHA-256(0x00 || record hash)) stored back to back in
     * {@code leaves}, which is left unchanged. Same head as {@link #root}, without an array per node.
     */
    static byte[] rootOfLeaves(byte[] leaves, int n) {
        if (n < 1) throw new IllegalArgumentException("a Merkle tree needs at least one leaf");
        byte[] level = java.util.Arrays.copyOf(leaves, 32 * n);
        MessageDigest md = Canonical.digest();
        try {
            while (n > 1) {
                int m = 0;
                for (int i = 0; i + 1 < n; i += 2, m++) {
                    md.update((byte) 1);
                    md.update(level, 32 * i, 64);
                    md.digest(level, 32 * m, 32);
                }
                if ((n & 1) == 1) System.arraycopy(level, 32 * (n - 1), level, 32 * m++, 32);
                n = m;
            }
        } catch (java.security.DigestException e) {
            throw new IllegalStateException(e);
        }
        return java.util.Arrays.copyOf(level, 32);
    }

    /** The audit path of leaf {@code index}: sibling hashes, bottom first (RFC 6962 PATH(m, D[n])). */
    public static List<byte[]> path(List<byte[]> recordHashes, int index) {
        if (index < 0 || index >= recordHashes.size()) {
            throw new IllegalArgumentException("leaf " + index + " is outside a tree of " + recordHashes.size());
        }
        List<byte[]> out = new ArrayList<>();
        pathOf(recordHashes, index, out);
        return out;
    }

    private static void pathOf(List<byte[]> d, int m, List<byte[]> out) {
        int n = d.size();
        if (n == 1) return;
        int k = Integer.highestOneBit(n - 1);
        if (m < k) {
            pathOf(d.subList(0, k), m, out);
            out.add(root(d.subList(k, n)));
        } else {
            pathOf(d.subList(k, n), m - k, out);
            out.add(root(d.subList(0, k)));
        }
    }

    /** True when {@code path} proves {@code recordHash} is leaf {@code index} of a tree of {@code size} with {@code root}. */
    public static boolean verifyInclusion(byte[] recordHash, long index, long size, List<byte[]> path, byte[] root) {
        if (index < 0 || index >= size) return false;
        long fn = index, sn = size - 1;
        byte[] r = leaf(recordHash);
        for (byte[] p : path) {
            if (sn == 0) return false;
            if ((fn & 1) == 1 || fn == sn) {
                r = node(p, r);
                if ((fn & 1) == 0) {
                    while ((fn & 1) == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                r = node(r, p);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && Arrays.equals(r, root);
    }

    static byte[] leaf(byte[] recordHash) {
        MessageDigest md = Canonical.digest();
        md.update((byte) 0);
        return md.digest(recordHash);
    }

    static byte[] node(byte[] left, byte[] right) {
        MessageDigest md = Canonical.digest();
        md.update((byte) 1);
        md.update(left);
        return md.digest(right);
    }
}
