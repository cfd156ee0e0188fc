/**
 * One EventSource for the whole app. Views subscribe to the messages they care about; a `reset`
 * (the server could not replay what this tab missed) refetches every query. The browser resumes
 * after a dropped connection by itself, sending Last-Event-ID.
 */
import { useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useContext, useEffect, useRef, useState } from 'react';
import type { StreamMessage } from '../shared/api.ts';

type Listener = (m: StreamMessage) => void;

interface Live {
  subscribe(listener: Listener): () => void;
  readonly connected: boolean;
}

const LiveContext = createContext<Live>({ subscribe: () => () => {}, connected: false });

export function LiveProvider({ children }: { children: ReactNode }) {
  const listeners = useRef(new Set<Listener>());
  const [connected, setConnected] = useState(false);
  const queryClient = useQueryClient();
  useEffect(() => {
    const source = new EventSource('/api/stream');
    const dispatch = (e: MessageEvent<string>) => {
      const m = JSON.parse(e.data) as StreamMessage;
      for (const l of listeners.current) l(m);
    };
    source.addEventListener('open', () => setConnected(true));
    source.addEventListener('error', () => setConnected(false));
    for (const type of ['task', 'node', 'event']) source.addEventListener(type, dispatch);
    source.addEventListener('reset', () => void queryClient.invalidateQueries());
    return () => source.close();
  }, [queryClient]);
  const value = useRef<Live>({
    subscribe(l) {
      listeners.current.add(l);
      return () => listeners.current.delete(l);
    },
    connected: false,
  });
  return (
    <LiveContext.Provider value={{ subscribe: value.current.subscribe, connected }}>
      {children}
    </LiveContext.Provider>
  );
}

export function useLive(): Live {
  return useContext(LiveContext);
}

/** Calls `onMessage` for every stream message while the component is mounted. */
export function useLiveMessages(onMessage: Listener): void {
  const { subscribe } = useLive();
  const ref = useRef(onMessage);
  ref.current = onMessage;
  useEffect(() => subscribe((m) => ref.current(m)), [subscribe]);
}
