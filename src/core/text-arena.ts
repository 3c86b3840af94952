/**
 * Many short texts kept as UTF-8 in chunks of bytes, outside the garbage-collected heap: a run holds every
 * person's row, DN and stable id until its plan is made, and as JavaScript strings they made V8 grow its heap far
 * beyond the data itself (docs/benchmarks.md). Chunks are never copied to grow, so holding N texts costs about
 * their bytes, not twice that while a buffer doubles. Read back on demand, one text at a time.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CHUNK_BYTES = 1 << 20;

export class TextArena {
  private readonly chunks: Uint8Array[] = [];
  private used = 0;
  /** Per text: its chunk, and where it ends in that chunk (it starts where the previous one of that chunk ends). */
  private chunkOf: Uint32Array = new Uint32Array(1 << 12);
  private endOf: Uint32Array = new Uint32Array(1 << 12);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Stores `text`; returns its index. */
  add(text: string): number {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    const most = text.length * 3;
    const current = this.chunks[this.chunks.length - 1];
    if (!current || current.length - this.used < most) {
      this.chunks.push(new Uint8Array(Math.max(CHUNK_BYTES, most)));
      this.used = 0;
    }
    const chunk = this.chunks[this.chunks.length - 1] as Uint8Array;
    this.used += encoder.encodeInto(text, chunk.subarray(this.used)).written;
    if (this.count === this.chunkOf.length) {
      this.chunkOf = grown(this.chunkOf);
      this.endOf = grown(this.endOf);
    }
    this.chunkOf[this.count] = this.chunks.length - 1;
    this.endOf[this.count] = this.used;
    return this.count++;
  }

  get(index: number): string {
    const chunk = this.chunkOf[index] as number;
    const start = index > 0 && this.chunkOf[index - 1] === chunk ? (this.endOf[index - 1] as number) : 0;
    return decoder.decode((this.chunks[chunk] as Uint8Array).subarray(start, this.endOf[index]));
  }
}

function grown(values: Uint32Array): Uint32Array {
  const next = new Uint32Array(values.length * 2);
  next.set(values);
  return next;
}
