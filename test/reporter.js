// Mocha's spec output plus one closing line CI can read: "unit: N passed, N failed, N skipped".
const Mocha = require('mocha');

const { EVENT_RUN_END } = Mocha.Runner.constants;

class CountingSpec extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const label = (options && options.reporterOption && options.reporterOption.label) || 'unit';
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats;
      // After Spec's epilogue, so it is the last line.
      process.nextTick(() => console.log(`${label}: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped`));
    });
  }
}

module.exports = CountingSpec;
