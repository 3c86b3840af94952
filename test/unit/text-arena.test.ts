import { describe, expect, it } from "vitest";
import { TextArena } from "../../src/core/text-arena.ts";

describe("TextArena", () => {
  it("gives back every text as it was stored, across chunks, with accents, emoji and empty texts", () => {
    const arena = new TextArena();
    const texts = Array.from({ length: 30_000 }, (_, index) =>
      index % 7 === 0 ? "" : `["Jérôme ${index}","Côté 🙂","${"x".repeat(index % 97)}"]`,
    );
    const big = "é".repeat(700_000); // larger than a chunk
    for (const text of texts) arena.add(text);
    const bigIndex = arena.add(big);
    const after = arena.add("after");
    expect(arena.size).toBe(texts.length + 2);
    texts.forEach((text, index) => {
      expect(arena.get(index)).toBe(text);
    });
    expect(arena.get(bigIndex)).toBe(big);
    expect(arena.get(after)).toBe("after");
  });
});
