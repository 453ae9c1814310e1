-- Reserve one sign-in attempt against a failure counter.
-- KEYS: counter
-- ARGV: limit, window (ms)
-- Returns 0 when reserved, else the milliseconds until the window ends.
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[1]) then
  local remaining = redis.call('PTTL', KEYS[1])
  if remaining < 1 then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    remaining = tonumber(ARGV[2])
  end
  return remaining
end
redis.call('INCR', KEYS[1])
if count == 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
