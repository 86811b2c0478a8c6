// Package memory holds the in-process cache drivers: an LRU Cache bounded by
// bytes, Counters and a Locker. They serve a single registry instance, and
// they are the fallback of the Redis drivers when Redis is down.
package memory
