/**
 * The sites of the sample web (all under the reserved .example TLD) and which Brown genres
 * they publish. `domain` is the ground-truth label a domain classifier should give.
 */
export type SiteKind = 'news' | 'magazine' | 'blog' | 'forum' | 'academic' | 'government' | 'fiction' | 'religion' | 'shop' | 'encyclopedia' | 'spam';

export interface Site {
  host: string;
  name: string;
  domain: SiteKind;
  /** URL path for a page, from a slug and a number. */
  path(slug: string, n: number): string;
  /** Navigation links shown in the header. */
  nav: string[];
}

const dated = (section: string) => (slug: string, n: number) => `/${section}/2024/${String((n % 12) + 1).padStart(2, '0')}/${slug}`;

export const SITES: Record<string, Site> = {
  herald: { host: 'www.fulton-herald.example', name: 'The Fulton Herald', domain: 'news', path: dated('news'), nav: ['Home', 'News', 'Politics', 'Sports', 'Business', 'Opinion', 'Weather'] },
  tribune: { host: 'www.capitol-tribune.example', name: 'Capitol Tribune', domain: 'news', path: dated('opinion'), nav: ['Front Page', 'Nation', 'World', 'Opinion', 'Letters'] },
  gazette: { host: 'www.evening-gazette.example', name: 'Evening Gazette', domain: 'news', path: dated('arts'), nav: ['Home', 'Local', 'Arts', 'Reviews', 'Obituaries'] },
  wire: { host: 'www.newswire-aggregator.example', name: 'NewsWire Aggregator', domain: 'news', path: (s, n) => `/story/${n}-${s}`, nav: ['Top Stories', 'Trending', 'Latest'] },
  almanac: { host: 'www.curious-almanac.example', name: 'The Curious Almanac', domain: 'magazine', path: (s) => `/features/${s}`, nav: ['Features', 'History', 'Science', 'Archive'] },
  quarterly: { host: 'www.literary-quarterly.example', name: 'Literary Quarterly', domain: 'magazine', path: (s, n) => `/issue-${(n % 40) + 1}/${s}`, nav: ['Current Issue', 'Essays', 'Poetry', 'Subscribe'] },
  hobbyist: { host: 'www.workshop-hobbyist.example', name: 'Workshop Hobbyist', domain: 'blog', path: (s) => `/blog/${s}`, nav: ['Blog', 'Projects', 'Tools', 'About me'] },
  column: { host: 'www.laughing-column.example', name: 'The Laughing Column', domain: 'blog', path: (s) => `/posts/${s}`, nav: ['Posts', 'Archive', 'About'] },
  craftshop: { host: 'shop.craftsupply.example', name: 'CraftSupply Shop', domain: 'shop', path: (s, n) => `/product/${n}/${s}`, nav: ['Shop', 'Deals', 'Cart', 'Account'] },
  fellowship: { host: 'www.grace-fellowship.example', name: 'Grace Fellowship', domain: 'religion', path: (s) => `/sermons/${s}`, nav: ['Home', 'Sermons', 'Events', 'Give'] },
  commerce: { host: 'www.commerce.gov.example', name: 'Department of Commerce', domain: 'government', path: (s) => `/reports/${s}`, nav: ['About', 'Reports', 'Press', 'Contact'] },
  health: { host: 'www.health.gov.example', name: 'Public Health Service', domain: 'government', path: (s) => `/publications/${s}`, nav: ['Topics', 'Publications', 'Data'] },
  preprints: { host: 'papers.openarchive.example', name: 'OpenArchive preprints', domain: 'academic', path: (_s, n) => `/abs/24${String(5 + (n % 7)).padStart(2, '0')}.${String(10000 + n).slice(-5)}`, nav: ['Browse', 'Search', 'Submit', 'Help'] },
  journal: { host: 'journal.scientific-society.example', name: 'Journal of the Scientific Society', domain: 'academic', path: (s, n) => `/article/10.5555/${n}/${s}`, nav: ['Issues', 'Authors', 'Editorial Board'] },
  stories: { host: 'www.storyhouse.example', name: 'StoryHouse', domain: 'fiction', path: (s) => `/story/${s}`, nav: ['Stories', 'Genres', 'Authors', 'Write'] },
  pulp: { host: 'fiction.pulpmag.example', name: 'Pulp Magazine', domain: 'fiction', path: (s, n) => `/chapter/${n}/${s}`, nav: ['Serials', 'Short Fiction', 'Archive'] },
  townsquare: { host: 'forum.townsquare.example', name: 'Town Square Forum', domain: 'forum', path: (s, n) => `/t/${s}/${n}`, nav: ['Latest', 'Categories', 'Top', 'Log in'] },
  chatterbox: { host: 'boards.chatterbox.example', name: 'Chatterbox Boards', domain: 'forum', path: (s, n) => `/thread/${n}-${s}`, nav: ['Boards', 'New posts', 'Members'] },
  rightswiki: { host: 'rights-wiki.example', name: 'Rights Wiki', domain: 'encyclopedia', path: (s) => `/wiki/${s}`, nav: ['Main page', 'Contents', 'Random article'] },
  casino: { host: 'top-casino-bonus.example', name: 'TOP CASINO BONUS', domain: 'spam', path: (s, n) => `/${s}-${n}.html`, nav: ['BONUS', 'FREE SPINS', 'WIN NOW'] },
  followers: { host: 'free-followers-now.example', name: 'Free Followers Now', domain: 'spam', path: (s, n) => `/get/${s}?ref=${n}`, nav: ['Get Followers', 'Pricing', 'Reviews'] },
  watches: { host: 'replica-watches-sale.example', name: 'Replica Watches Sale', domain: 'spam', path: (s, n) => `/watch-${n}-${s}.php`, nav: ['Rolex', 'Omega', 'Cheap', 'Order'] },
};

/** Where each Brown genre is published. */
export const GENRE_SITES: Record<string, string[]> = {
  news: ['herald', 'tribune'],
  editorial: ['tribune'],
  reviews: ['gazette', 'quarterly'],
  religion: ['fellowship'],
  hobbies: ['hobbyist', 'craftshop'],
  lore: ['almanac'],
  belles_lettres: ['quarterly', 'almanac'],
  government: ['commerce', 'health'],
  learned: ['preprints', 'journal'],
  fiction: ['stories'],
  mystery: ['stories', 'pulp'],
  science_fiction: ['pulp'],
  adventure: ['pulp', 'stories'],
  romance: ['stories'],
  humor: ['column'],
};

export const FORUM_SITES = ['townsquare', 'chatterbox'];
export const SPAM_SITES = ['casino', 'followers', 'watches'];

export function slugOf(title: string): string {
  return (
    title
      .toLowerCase()
      .normalize('NFD')
      .replace(/\p{Mn}/gu, '')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 60) || 'page'
  );
}
