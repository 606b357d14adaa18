// Berth's own route for Debian base images: POST /images/bootstrap?ref=debian:bookworm makes the image from
// Debian's mirror (mmdebstrap) unless it exists, streaming progress as Docker's JSON messages.
import { InvalidParameterError } from '../../errdefs';
import type { DebianBootstrap } from '../../image/bootstrap';
import type { Router } from '../router';
import { JsonMessageStream } from '../streams';

export function registerBootstrapRoutes(router: Router, bootstrap: Pick<DebianBootstrap, 'bootstrap'>): void {
  router.post('/images/bootstrap', async (ctx) => {
    const ref = ctx.query.get('ref');
    if (!ref) throw new InvalidParameterError('ref is required: the Debian image to make, e.g. debian:bookworm');
    const out = new JsonMessageStream(ctx.res!);
    const abort = new AbortController();
    let done = false;
    ctx.res!.on('close', () => { if (!done) abort.abort(); });
    try {
      const id = await bootstrap.bootstrap(ref, (m) => out.write(m), abort.signal);
      done = true;
      out.write({ aux: { ID: id } });
      out.write({ status: `Status: debian image ${id} is up to date` });
      out.finish();
    } catch (err) {
      done = true;
      if (abort.signal.aborted) { ctx.res!.destroy(); return; }
      out.finish(err);
    }
  });
}
