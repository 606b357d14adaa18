// The page's calls to berthd through the dashboard server's /api proxy: JSON requests, Docker's error messages,
// and long-lived streams read chunk by chunk (reconnected by their owners).

/** A failed API call, with Docker's message ({"message": ...}) when the daemon gave one. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function failure(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let message = text.trim() || res.statusText;
  try { message = (JSON.parse(text) as { message?: string }).message ?? message; } catch { /* plain text body */ }
  return new ApiError(res.status, `${res.status}: ${message}`);
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(`/api${path}`, { signal });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

/** POST or DELETE with no body of interest: resolves once berthd answered with success. */
export async function call(method: 'POST' | 'DELETE', path: string): Promise<unknown> {
  const res = await fetch(`/api${path}`, { method });
  if (!res.ok) throw await failure(res);
  const text = await res.text();
  try { return text ? JSON.parse(text) : undefined; } catch { return text; }
}

/** Reads a streaming response, handing each chunk to `onChunk`, until it ends or `signal` aborts it. */
export async function stream(path: string, signal: AbortSignal, onChunk: (chunk: Uint8Array) => void): Promise<void> {
  const res = await fetch(`/api${path}`, { signal });
  if (!res.ok || !res.body) throw await failure(res);
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      if (value) onChunk(value);
    }
  } finally {
    reader.releaseLock();
  }
}

/** Keeps a stream open: reopened a while after it ends or fails, until `signal` aborts. */
export function keepStreaming(path: string, signal: AbortSignal, onChunk: (chunk: Uint8Array) => void, onOpen: () => void = () => {}): void {
  const loop = async () => {
    while (!signal.aborted) {
      try {
        onOpen();
        await stream(path, signal, onChunk);
      } catch (err) {
        if (signal.aborted) return;
        console.warn(`stream ${path}: ${err instanceof Error ? err.message : String(err)}`);
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  void loop();
}
