// Resizes the terminal of a process supervised by conmon, through the `ctl` fifo conmon keeps in its bundle directory.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

/** conmon's control message type for a window resize (src/config.h: WIN_RESIZE_EVENT). */
const WIN_RESIZE_EVENT = 1;
/** conmon refuses sizes above this (ctrl.c). */
const MAX_DIMENSION = 1000;

/**
 * Writes "<type> <height> <width>\n" to `<dir>/ctl`; conmon passes it on to its winsz fifo and sets the pty's size.
 * The fifo is opened non-blocking so a conmon that is gone is an error (ENXIO) rather than a hang.
 */
export async function resizeConsole(dir: string, height: number, width: number): Promise<void> {
  const h = Math.max(0, Math.min(MAX_DIMENSION, Math.floor(height)));
  const w = Math.max(0, Math.min(MAX_DIMENSION, Math.floor(width)));
  const fh = await fsp.open(path.join(dir, 'ctl'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  try {
    await fh.write(`${WIN_RESIZE_EVENT} ${h} ${w}\n`);
  } finally {
    await fh.close();
  }
}
