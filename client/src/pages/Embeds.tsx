export function EmbedMap() {
  return <p>…</p>;
}
export function EmbedScoreboard() {
  return <p>…</p>;
}
