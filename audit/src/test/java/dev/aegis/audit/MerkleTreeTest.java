package dev.aegis.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The tree head matches RFC 6962's recursive definition, and every audit path verifies (and only its own leaf). */
class MerkleTreeTest {
    @Test
    void rootMatchesTheRecursiveDefinitionAndEveryPathVerifies() {
        for (int n = 1; n <= 40; n++) {
            List<byte[]> leaves = new ArrayList<>();
            for (int i = 0; i < n; i++) leaves.add(Canonical.sha256(new byte[] {(byte) i, (byte) n}, 2));
            byte[] root = MerkleTree.root(leaves);
            assertThat(root).as("n=%d", n).isEqualTo(rfc6962(leaves));
            for (int m = 0; m < n; m++) {
                List<byte[]> path = MerkleTree.path(leaves, m);
                assertThat(MerkleTree.verifyInclusion(leaves.get(m), m, n, path, root)).as("n=%d m=%d", n, m).isTrue();
                if (n > 1) {
                    assertThat(MerkleTree.verifyInclusion(leaves.get((m + 1) % n), m, n, path, root)).isFalse();
                    assertThat(MerkleTree.verifyInclusion(leaves.get(m), (m + 1) % n, n, path, root)).isFalse();
                }
            }
        }
    }

    private static byte[] rfc6962(List<byte[]> d) {
        if (d.size() == 1) return MerkleTree.leaf(d.getFirst());
        int k = Integer.highestOneBit(d.size() - 1);
        return MerkleTree.node(rfc6962(d.subList(0, k)), rfc6962(d.subList(k, d.size())));
    }

    @Test
    void emptyPathsOnlyProveSingleLeafTrees() {
        byte[] h = Canonical.sha256(new byte[] {1}, 1);
        assertThat(MerkleTree.verifyInclusion(h, 0, 1, List.of(), MerkleTree.leaf(h))).isTrue();
        assertThat(MerkleTree.verifyInclusion(h, 0, 2, List.of(), MerkleTree.leaf(h))).isFalse();
        assertThat(Arrays.equals(MerkleTree.root(List.of(h)), MerkleTree.leaf(h))).isTrue();
    }
}
