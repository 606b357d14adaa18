// Container names: validation, and Docker-style random names ("adjective_scientist").
import { randomInt } from 'node:crypto';
import { InvalidParameterError } from '../errdefs';

const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function validateContainerName(name: string): string {
  if (!VALID_NAME.test(name)) throw new InvalidParameterError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name.replace(/^\//, '');
}

const ADJECTIVES = [
  'admiring', 'adoring', 'affectionate', 'agitated', 'amazing', 'angry', 'awesome', 'beautiful', 'blissful', 'bold',
  'brave', 'busy', 'charming', 'clever', 'compassionate', 'competent', 'confident', 'cool', 'cranky', 'crazy',
  'dazzling', 'determined', 'distracted', 'dreamy', 'eager', 'ecstatic', 'elastic', 'elated', 'elegant', 'epic',
  'exciting', 'fervent', 'festive', 'flamboyant', 'focused', 'friendly', 'frosty', 'funny', 'gallant', 'gifted',
  'goofy', 'gracious', 'great', 'happy', 'hardcore', 'heuristic', 'hopeful', 'hungry', 'infallible', 'inspiring',
  'intelligent', 'interesting', 'jolly', 'jovial', 'keen', 'kind', 'laughing', 'loving', 'lucid', 'magical',
  'modest', 'musing', 'mystifying', 'naughty', 'nervous', 'nice', 'nifty', 'nostalgic', 'objective', 'optimistic',
  'peaceful', 'pedantic', 'pensive', 'practical', 'priceless', 'quirky', 'quizzical', 'recursing', 'relaxed', 'reverent',
  'romantic', 'sad', 'serene', 'sharp', 'silly', 'sleepy', 'stoic', 'strange', 'stupefied', 'suspicious', 'sweet',
  'tender', 'thirsty', 'trusting', 'unruffled', 'upbeat', 'vibrant', 'vigilant', 'vigorous', 'wizardly', 'wonderful',
  'xenodochial', 'youthful', 'zealous', 'zen',
];
const SURNAMES = [
  'agnesi', 'albattani', 'allen', 'archimedes', 'ardinghelli', 'babbage', 'banach', 'bardeen', 'bartik', 'bell',
  'black', 'blackwell', 'bohr', 'booth', 'borg', 'bose', 'brahmagupta', 'brattain', 'brown', 'carson', 'cerf',
  'chandrasekhar', 'chatelet', 'clarke', 'cohen', 'curie', 'darwin', 'davinci', 'dijkstra', 'einstein', 'elion',
  'engelbart', 'euclid', 'euler', 'faraday', 'fermat', 'fermi', 'feynman', 'franklin', 'gagarin', 'galileo', 'gauss',
  'goldberg', 'goodall', 'hamilton', 'hawking', 'heisenberg', 'hermann', 'hodgkin', 'hopper', 'hypatia', 'jackson',
  'jang', 'jennings', 'johnson', 'kalam', 'keller', 'kepler', 'khorana', 'knuth', 'kowalevski', 'lalande', 'lamarr',
  'lamport', 'leakey', 'lehmann', 'lovelace', 'lumiere', 'mahavira', 'margulis', 'mayer', 'mccarthy', 'mcclintock',
  'meitner', 'mendel', 'mirzakhani', 'montalcini', 'moore', 'morse', 'napier', 'newton', 'nobel', 'noether', 'pascal',
  'pasteur', 'payne', 'perlman', 'pike', 'poincare', 'ramanujan', 'ride', 'ritchie', 'rosalind', 'sammet', 'shannon',
  'shaw', 'sinoussi', 'stonebraker', 'swartz', 'tesla', 'thompson', 'torvalds', 'turing', 'varahamihira', 'wescoff',
  'wiles', 'williams', 'wilson', 'wing', 'wozniak', 'wright', 'yalow', 'yonath',
];

export function randomContainerName(taken: (name: string) => boolean): string {
  for (let attempt = 0; ; attempt++) {
    let name = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${SURNAMES[randomInt(SURNAMES.length)]}`;
    if (attempt > 10) name += randomInt(10);
    if (!taken(name)) return name;
  }
}
