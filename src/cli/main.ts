console.log('chartprov');
