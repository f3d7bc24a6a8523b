import { csvLine, parseCsv } from './csv';

describe('CSV', () => {
  it('quotes only what needs quoting', () => {
    expect(csvLine(['a', 'b,c', 'say "hi"', null, 3, ' pad'])).toBe('a,"b,c","say ""hi""",,3," pad"\r\n');
  });

  it('writes numbers and booleans as String() does, and quotes whitespace at either end', () => {
    expect(csvLine([0, -1.5, 1e21, true, false, undefined, 'tab\t', '\tlead', 'a\rb', ' '])).toBe(
      '0,-1.5,1e+21,true,false,,"tab\t","\tlead","a\rb"," "\r\n',
    );
  });

  it('round-trips awkward fields', () => {
    const rows = [
      ['stratum', 'arm'],
      ['site=A|sex=female', 'SMCM'],
      ['line\nbreak', 'quote " inside'],
      ['', 'x,y'],
    ];
    const text = rows.map(csvLine).join('');
    expect(parseCsv(text)).toEqual(rows);
  });

  it('accepts LF line ends, a BOM and no final newline', () => {
    expect(parseCsv('\uFEFFarm,site\nSMCM,A\nTAU,B')).toEqual([
      ['arm', 'site'],
      ['SMCM', 'A'],
      ['TAU', 'B'],
    ]);
  });

  it('reports malformed quoting with its line', () => {
    expect(() => parseCsv('a,b\n"open,c\n')).toThrow(/unterminated/);
    expect(() => parseCsv('a\n"x"y\n')).toThrow(/line 2/);
  });
});
