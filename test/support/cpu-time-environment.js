// A jest test environment that appends, per test file, the CPU time (user + system) and wall time of the
// process that ran it to $CPU_LOG (JSON lines). Wall time alone says little on a shared machine.
// Use: CPU_LOG=/tmp/cpu.jsonl npm test -- --testEnvironment ./test/support/cpu-time-environment.js
const fs = require('node:fs');
const { TestEnvironment } = require('jest-environment-node');
class CpuEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.file = context.testPath;
  }
  async setup() {
    this.cpu = process.cpuUsage();
    this.wall = performance.now();
    await super.setup();
  }
  async teardown() {
    await super.teardown();
    const u = process.cpuUsage(this.cpu);
    fs.appendFileSync(
      process.env.CPU_LOG || 'cpu-time.jsonl',
      JSON.stringify({
        file: this.file,
        cpu: (u.user + u.system) / 1e6,
        wall: (performance.now() - this.wall) / 1000,
        pid: process.pid,
      }) + '\n',
    );
  }
}
module.exports = CpuEnvironment;
