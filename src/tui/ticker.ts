import { useEffect, useState } from 'react';

/** One clock for a screen: re-renders every `ms` while active (elapsed times), nothing at all while idle. */
export function useTicker(active: boolean, now: () => number, ms = 1000): number {
  const [t, setT] = useState(now);
  useEffect(() => {
    if (!active) return;
    setT(now());
    const id = setInterval(() => setT(now()), ms);
    return () => clearInterval(id);
  }, [active, now, ms]);
  return active ? t : now();
}
