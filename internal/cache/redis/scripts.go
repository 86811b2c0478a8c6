package redis

// Lua scripts, each run atomically by Redis. Every key a script touches is
// passed in KEYS.

// releaseLua deletes KEYS[1] only if it still holds ARGV[1], the token of
// the holder releasing it: a lease that expired and was taken by someone else
// is left alone.
const releaseLua = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`

// sealLua turns the live counter hash KEYS[1] into the pending batch KEYS[2]
// named ARGV[1], records the batch in the set KEYS[3] and claims it for the
// caller (KEYS[4] = token ARGV[2] for ARGV[3] ms), all at once: increments
// arriving afterwards start a fresh live hash, and no other drainer can take
// the batch before its creator has offered it. Returns 0 when there is
// nothing to seal.
const sealLua = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('SET', KEYS[4], ARGV[2], 'PX', ARGV[3])
return 1`

// finishLua forgets the applied batch KEYS[2]/ARGV[1]: its hash KEYS[1], its
// entry in the set KEYS[2], and the caller's claim KEYS[3] if still held
// with token ARGV[2].
const finishLua = `
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
if redis.call('GET', KEYS[3]) == ARGV[2] then
  redis.call('DEL', KEYS[3])
end
return 1`
