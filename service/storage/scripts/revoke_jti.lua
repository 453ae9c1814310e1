-- Revoke one token id in a single atomic step.
-- KEYS: jti key, jti index, sequence
-- ARGV: digest (8 bytes), expires_at (s), ttl (ms), now (s), event body,
--       channel, publish (1 or 0: 0 only from tests that lose an event)
local expires_at = tonumber(ARGV[2])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < expires_at then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
redis.call('ZADD', KEYS[2], 'GT', expires_at, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[4])
local seq = redis.call('INCR', KEYS[3])
if ARGV[7] == '1' then
  redis.call('PUBLISH', ARGV[6], seq .. '|' .. ARGV[5])
end
return seq
