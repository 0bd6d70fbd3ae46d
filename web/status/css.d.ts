// Lets the page's script import style sheets, which esbuild bundles into the page.
declare module '*.css';
