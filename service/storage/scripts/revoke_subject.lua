-- Set a subject's not-before time in a single atomic step; it only moves on.
-- KEYS: subject key, not-before hash, subject index, sequence
-- ARGV: subject, not_before (s), expires_at (s), ttl (ms), now (s),
--       event body, channel, publish (1 or 0)
local not_before = tonumber(ARGV[2])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < not_before then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[4])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[5])
if #expired > 0 then
  redis.call('HDEL', KEYS[2], unpack(expired))
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[5])
end
local seq = redis.call('INCR', KEYS[4])
if ARGV[8] == '1' then
  redis.call('PUBLISH', ARGV[7], seq .. '|' .. ARGV[6])
end
return seq
