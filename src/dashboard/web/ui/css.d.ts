// Stylesheets are imported for esbuild to bundle into assets/dashboard.css; they export nothing.
declare module '*.css';
