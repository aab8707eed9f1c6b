package dev.aegis.core;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A read cache bounded by entry count and by total weight (e.g. characters), for values that never change once
 * cached, such as ended tasks. Crude on purpose: when full it empties and refills from the hot reads, and a value
 * heavier than {@code maxEntryWeight} is never kept, so a few huge results cannot push out thousands of small ones or
 * fill the heap.
 */
public final class BoundedCache<K, V> {
    private final Map<K, V> entries = new ConcurrentHashMap<>();
    private final AtomicLong weight = new AtomicLong();
    private final int maxEntries;
    private final long maxWeight;
    private final long maxEntryWeight;

    public BoundedCache(int maxEntries, long maxWeight, long maxEntryWeight) {
        this.maxEntries = maxEntries;
        this.maxWeight = maxWeight;
        this.maxEntryWeight = maxEntryWeight;
    }

    public V get(K key) {
        return entries.get(key);
    }

    /** Keeps {@code value} unless it weighs more than an entry may. */
    public void put(K key, V value, long valueWeight) {
        if (valueWeight > maxEntryWeight) return;
        if (entries.size() >= maxEntries || weight.get() + valueWeight > maxWeight) {
            entries.clear();
            weight.set(0);
        }
        entries.put(key, value);
        weight.addAndGet(valueWeight); // a replaced or removed entry's weight stays counted: it only empties sooner
    }

    public void remove(K key) {
        entries.remove(key);
    }
}
