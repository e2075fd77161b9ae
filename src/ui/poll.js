// Reads something now and again every few seconds while the page shows it.
import { useEffect, useState } from 'preact/hooks';

/** { data, error, reload }: `load` is called at once, then every `everyMs` (0: once), and again when `deps` change. */
export function usePoll(load, everyMs, deps) {
  const [state, setState] = useState({ data: undefined, error: undefined });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    const run = () =>
      load().then(
        (data) => live && setState({ data, error: undefined }),
        (error) => live && setState((s) => ({ data: s.data, error })),
      );
    run();
    const timer = everyMs > 0 ? setInterval(run, everyMs) : undefined;
    return () => {
      live = false;
      if (timer) clearInterval(timer);
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((n) => n + 1) };
}
