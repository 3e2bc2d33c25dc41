/** CPU time this process has used so far (user + system), in milliseconds: timings on a shared machine measure our work, not the neighbours'. */
export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
