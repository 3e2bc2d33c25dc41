export function TpsPage() {
  return <p className="pad">…</p>;
}
